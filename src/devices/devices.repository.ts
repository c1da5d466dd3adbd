import { Injectable } from '@nestjs/common';
import { UUID_V4 } from '../config/config.js';
import { isRowError, uniqueViolation } from '../database/database-errors.js';
import { Database } from '../database/database.js';
import {
  type ActivationInput,
  type AdmissionInput,
  type AdmissionOutcome,
  type AttemptInput,
  type AttemptResult,
  DeviceBatches,
} from './device-batches.js';
import { deviceNameKey, nameTakenSql } from './device-name.js';
import { type Device, DEVICE_COLUMNS, type DeviceRow, toDevice } from './device.js';
import { GIVE_BACK, IMPORT_LOCK, importStatement, type ImportOutcome, type ImportRow } from './statements/import.sql.js';

export type InsertOutcome = 'OK' | 'ALREADY_ACTIVE' | 'NAME_TAKEN' | 'LIMIT_REACHED' | 'INVALID_DATA';

/**
 * The devices table (with user_device_counts, its per-user slot counter). Every statement of a
 * request is scoped by client (tenant) and user in its SQL; only the name-key backfill, a background
 * task, reads and keys rows of all clients. The hot ones are batched in DeviceBatches, beside it.
 */
@Injectable()
export class DevicesRepository {
  constructor(
    private readonly db: Database,
    private readonly batches: DeviceBatches,
  ) {}

  /** The device as verification sees it: from the primary, batched with concurrent reads. */
  async findForClient(clientId: string, userId: string, id: string): Promise<Device | null> {
    // Only well-formed ids join a batch: one bad value would fail the statement for all of it.
    if (!UUID_V4.test(id)) return null;
    const row = await this.batches.reads.submit({ clientId, userId, id: id.toLowerCase() });
    return row === undefined ? null : toDevice(row);
  }

  /** The device as a read of the API sees it (may come from the read replica). */
  async getForClient(clientId: string, userId: string, id: string): Promise<Device | null> {
    const [row] = await this.db.read<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1 AND client_id = $2 AND user_id = $3`, [
      id,
      clientId,
      userId,
    ]);
    return row === undefined ? null : toDevice(row);
  }

  /** Whether the id exists for this client and user (to tell "already active" from "unknown"). */
  async existsForClient(clientId: string, userId: string, id: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM devices WHERE id = $1 AND client_id = $2 AND user_id = $3', [id, clientId, userId])).length > 0;
  }

  /** The user's devices, newest first; from the replica unless `primary` (verification). */
  async listForUser(clientId: string, userId: string, from: 'primary' | 'replica'): Promise<Device[]> {
    const text = `SELECT ${DEVICE_COLUMNS} FROM devices WHERE client_id = $1 AND user_id = $2 ORDER BY created_at DESC, id`;
    const rows =
      from === 'primary' ? await this.db.query<DeviceRow>(text, [clientId, userId]) : await this.db.read<DeviceRow>(text, [clientId, userId]);
    return rows.map(toDevice);
  }

  /** Whether an active device of the user has a name that looks like this one (see nameTakenSql). */
  async nameTaken(clientId: string, userId: string, deviceName: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM devices d WHERE d.client_id = $1 AND d.user_id = $2 AND d.status = 'ACTIVE' AND ${nameTakenSql('$3', '$4')}`,
      [clientId, userId, deviceNameKey(deviceName), deviceName],
    );
    return rows.length > 0;
  }

  /** Up to `limit` devices whose name has no look-alike key yet (see NameKeyBackfill), oldest first. */
  async findUnkeyedNames(limit: number): Promise<Array<{ id: string; deviceName: string }>> {
    const rows = await this.db.query<{ id: string; device_name: string }>(
      'SELECT id, device_name FROM devices WHERE name_key IS NULL ORDER BY created_at, id LIMIT $1',
      [limit],
      { timeoutMs: 30_000 },
    );
    return rows.map((r) => ({ id: r.id, deviceName: r.device_name }));
  }

  /**
   * Keys the rows that still lack a key and still have the name it was computed from; answers how
   * many, or NAME_TAKEN (none keyed) when a key is already another active device's of the user.
   */
  async setNameKeys(rows: Array<{ id: string; deviceName: string; key: string }>): Promise<number | 'NAME_TAKEN'> {
    try {
      const keyed = await this.db.query(
        `UPDATE devices d SET name_key = v.key FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, name, key)
          WHERE d.id = v.id AND d.name_key IS NULL AND d.device_name = v.name RETURNING d.id`,
        [rows.map((r) => r.id), rows.map((r) => r.deviceName), rows.map((r) => r.key)],
        { timeoutMs: 30_000 },
      );
      return keyed.length;
    } catch (error) {
      if (uniqueViolation(error) === 'devices_active_name_key_uq') return 'NAME_TAKEN';
      throw error;
    }
  }

  /** The create-time check of a new registration, and its REGISTRATION_CREATED event (see admission.sql.ts). */
  admit(input: AdmissionInput): Promise<AdmissionOutcome> {
    return this.batches.admissions.submit(input);
  }

  /** An activated device and its DEVICE_ACTIVATED event (see activation.sql.ts). */
  async insertActive(input: ActivationInput): Promise<InsertOutcome> {
    try {
      return await this.batches.activations.submit(input);
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'devices_pkey') return 'ALREADY_ACTIVE';
      if (constraint === 'devices_active_name_key_uq' || constraint === 'devices_active_name_uq') return 'NAME_TAKEN';
      // The registration holds something the table refuses (stored before today's checks).
      if (isRowError(error)) return 'INVALID_DATA';
      throw error;
    }
  }

  /**
   * Imported devices (statements/import.sql.ts), for the API route and the bulk import alike: each
   * row's outcome, in order; one transaction per call, one import per client at a time.
   */
  importDevices(clientId: string, maxPerUser: number, rows: ImportRow[], requestId: string | null): Promise<ImportOutcome[]> {
    if (rows.length === 0) return Promise.resolve([]);
    const statement = importStatement(clientId, maxPerUser, rows, requestId);
    return this.db.transaction(async (tx) => {
      await tx.query(IMPORT_LOCK, [clientId], { timeoutMs: 60_000 });
      const results = await tx.query<{ outcome: ImportOutcome; slotted: boolean; user_id: string }>(statement.text, statement.values, {
        timeoutMs: 60_000,
      });
      const unused = new Map<string, number>();
      for (const r of results) if (r.slotted && r.outcome !== 'IMPORTED') unused.set(r.user_id, (unused.get(r.user_id) ?? 0) + 1);
      if (unused.size > 0) await tx.query(GIVE_BACK, [clientId, [...unused.keys()], [...unused.values()]]);
      return results.map((r) => r.outcome);
    });
  }

  /** Decides one code for one device (see attempt.sql.ts). */
  attempt(input: AttemptInput): Promise<AttemptResult> {
    return this.batches.attempts.submit(input);
  }

  async rename(clientId: string, userId: string, id: string, deviceName: string): Promise<'OK' | 'NOT_FOUND' | 'NAME_TAKEN'> {
    try {
      const rows = await this.db.query(
        'UPDATE devices SET device_name = $4, name_key = $5 WHERE id = $1 AND client_id = $2 AND user_id = $3 RETURNING id',
        [id, clientId, userId, deviceName, deviceNameKey(deviceName)],
      );
      return rows.length > 0 ? 'OK' : 'NOT_FOUND';
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'devices_active_name_key_uq' || constraint === 'devices_active_name_uq') return 'NAME_TAKEN';
      throw error;
    }
  }

  /** Deletes the device and gives its slot back, in one statement. */
  async delete(clientId: string, userId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(
      `WITH gone AS (DELETE FROM devices WHERE id = $1 AND client_id = $2 AND user_id = $3 RETURNING client_id, user_id),
       slot AS (UPDATE user_device_counts c SET active = GREATEST(c.active - 1, 0) FROM gone WHERE c.client_id = gone.client_id AND c.user_id = gone.user_id)
       SELECT 1 FROM gone`,
      [id, clientId, userId],
    );
    return rows.length > 0;
  }

  /** Erasing a user: every device of the user for this client, and the user's device count. */
  async deleteAllForUser(clientId: string, userId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM devices WHERE client_id = $1 AND user_id = $2 RETURNING 1),
       slot AS (DELETE FROM user_device_counts WHERE client_id = $1 AND user_id = $2)
       SELECT count(*)::int AS n FROM gone`,
      [clientId, userId],
    );
    return row.n;
  }
}
