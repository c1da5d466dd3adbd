import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AUDIT_COLUMNS, auditValues } from '../audit/audit.repository.js';
import { type Sql, sqlOf } from '../config/sql.js';
import { DeviceEntity } from './device.entity.js';

export type InsertOutcome = 'OK' | 'ALREADY_ACTIVE' | 'NAME_TAKEN' | 'LIMIT_REACHED';
export interface FailureResult {
  failureCount: number;
  lockedUntil: Date | null;
}

const uniqueViolation = (error: unknown): string | undefined => {
  const e = error as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && typeof e.constraint === 'string' ? e.constraint : undefined;
};

const SELECT_DEVICE = `SELECT id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, status,
  last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at FROM devices`;

interface DeviceRow {
  id: string;
  client_id: string;
  user_id: string;
  device_type: 'TOTP';
  device_name: string;
  sealed_secret: string;
  key_id: string;
  algorithm: DeviceEntity['algorithm'];
  digits: 6 | 8;
  period: number;
  status: 'ACTIVE';
  last_used_step: string | null;
  failure_count: number;
  locked_until: Date | null;
  created_at: Date;
  activated_at: Date;
  last_used_at: Date | null;
}

function toEntity(row: DeviceRow): DeviceEntity {
  const d = new DeviceEntity();
  d.id = row.id;
  d.clientId = row.client_id;
  d.userId = row.user_id;
  d.deviceType = row.device_type;
  d.deviceName = row.device_name;
  d.sealedSecret = row.sealed_secret;
  d.keyId = row.key_id;
  d.algorithm = row.algorithm;
  d.digits = row.digits;
  d.period = row.period;
  d.status = row.status;
  d.lastUsedStep = row.last_used_step === null ? null : Number(row.last_used_step);
  d.failureCount = row.failure_count;
  d.lockedUntil = row.locked_until;
  d.createdAt = row.created_at;
  d.activatedAt = row.activated_at;
  d.lastUsedAt = row.last_used_at;
  return d;
}

/**
 * The only code that touches the devices table. Every lookup is scoped by client (tenant) and user.
 * Hot paths are single parameterised statements (verification and activation run thousands of
 * times a second); TypeORM's query builder cost showed in the profile.
 */
@Injectable()
export class DevicesRepository {
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.sql = sqlOf(dataSource);
  }

  async findForClient(clientId: string, userId: string, id: string): Promise<DeviceEntity | null> {
    const rows = await this.sql<DeviceRow>(`${SELECT_DEVICE} WHERE id = $1 AND client_id = $2 AND user_id = $3`, [id, clientId, userId]);
    return rows[0] === undefined ? null : toEntity(rows[0]);
  }

  /** Whether the id exists for this client and user (to tell "already active" from "unknown"). */
  async existsForClient(clientId: string, userId: string, id: string): Promise<boolean> {
    const rows = await this.sql('SELECT 1 FROM devices WHERE id = $1 AND client_id = $2 AND user_id = $3', [id, clientId, userId]);
    return rows.length > 0;
  }

  async listForUser(clientId: string, userId: string): Promise<DeviceEntity[]> {
    const rows = await this.sql<DeviceRow>(`${SELECT_DEVICE} WHERE client_id = $1 AND user_id = $2 ORDER BY created_at DESC, id`, [clientId, userId]);
    return rows.map(toEntity);
  }

  /** How many active devices the user has, and whether one already has this name (ignoring case). */
  async activeSummary(clientId: string, userId: string, deviceName: string): Promise<{ count: number; nameTaken: boolean }> {
    const [row] = await this.sql<{ count: number; taken: boolean | null }>(
      `SELECT count(*)::int AS count, bool_or(lower(device_name) = lower($3)) AS taken
         FROM devices WHERE client_id = $1 AND user_id = $2 AND status = 'ACTIVE'`,
      [clientId, userId, deviceName],
    );
    return { count: row?.count ?? 0, nameTaken: row?.taken === true };
  }

  /**
   * Inserts an activated device and its audit event in one statement (so in one transaction and
   * one round trip): a slot is taken in user_device_counts only while the user is under the limit,
   * then the device and the event are written. A duplicate id or name aborts the whole statement.
   */
  async insertActive(device: DeviceEntity, maxPerUser: number, event: AuditEventEntity): Promise<InsertOutcome> {
    const d = device;
    const auditParams = AUDIT_COLUMNS.map((_, i) => `$${19 + i}`).join(', ');
    try {
      const rows = await this.sql<{ id: string }>(
        `WITH slot AS (
           INSERT INTO user_device_counts AS c (client_id, user_id, active) VALUES ($2, $3, 1)
           ON CONFLICT (client_id, user_id) DO UPDATE SET active = c.active + 1 WHERE c.active < $18
           RETURNING 1
         ), device AS (
           INSERT INTO devices (id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, status,
                                last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM slot
           RETURNING id
         ), audit AS (
           INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) SELECT ${auditParams} FROM device
         )
         SELECT id FROM device`,
        [
          d.id, d.clientId, d.userId, d.deviceType, d.deviceName, d.sealedSecret, d.keyId, d.algorithm, d.digits, d.period, d.status,
          d.lastUsedStep, d.failureCount, d.lockedUntil, d.createdAt, d.activatedAt, d.lastUsedAt, maxPerUser, ...auditValues([event]),
        ],
      );
      return rows.length > 0 ? 'OK' : 'LIMIT_REACHED';
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'devices_pkey') return 'ALREADY_ACTIVE';
      if (constraint === 'devices_active_name_uq') return 'NAME_TAKEN';
      throw error;
    }
  }

  async rename(clientId: string, userId: string, id: string, deviceName: string): Promise<'OK' | 'NOT_FOUND' | 'NAME_TAKEN'> {
    try {
      const rows = await this.sql('UPDATE devices SET device_name = $4 WHERE id = $1 AND client_id = $2 AND user_id = $3 RETURNING id', [id, clientId, userId, deviceName]);
      return rows.length > 0 ? 'OK' : 'NOT_FOUND';
    } catch (error) {
      if (uniqueViolation(error) === 'devices_active_name_uq') return 'NAME_TAKEN';
      throw error;
    }
  }

  /** Deletes the device and gives its slot back, in one statement. */
  async delete(clientId: string, userId: string, id: string): Promise<boolean> {
    const rows = await this.sql(
      `WITH gone AS (DELETE FROM devices WHERE id = $1 AND client_id = $2 AND user_id = $3 RETURNING client_id, user_id),
       slot AS (UPDATE user_device_counts c SET active = GREATEST(c.active - 1, 0) FROM gone WHERE c.client_id = gone.client_id AND c.user_id = gone.user_id)
       SELECT 1 FROM gone`,
      [id, clientId, userId],
    );
    return rows.length > 0;
  }

  /**
   * Accepts a time step at most once: the update succeeds only when the step is later than the last
   * accepted one and the device is not locked, so two concurrent requests with one code cannot both
   * pass. The OTP_VERIFIED event is written by the same statement, only when the update happened.
   */
  async consumeStep(id: string, step: number, now: Date, event: AuditEventEntity): Promise<boolean> {
    const auditParams = AUDIT_COLUMNS.map((_, i) => `$${4 + i}`).join(', ');
    const rows = await this.sql(
      `WITH used AS (
         UPDATE devices SET last_used_step = $2, last_used_at = $3, failure_count = 0, locked_until = NULL
          WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) AND (locked_until IS NULL OR locked_until <= $3)
          RETURNING id
       ), audit AS (
         INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) SELECT ${auditParams} FROM used
       )
       SELECT id FROM used`,
      [id, step, now, ...auditValues([event])],
    );
    return rows.length > 0;
  }

  /** Counts a failure atomically; at the threshold the device locks and the count starts again. */
  async recordFailure(id: string, threshold: number, lockSeconds: number, now: Date): Promise<FailureResult | undefined> {
    const rows = await this.sql<{ failure_count: number; locked_until: Date | null }>(
      `UPDATE devices SET
          failure_count = CASE WHEN failure_count + 1 >= $2 THEN 0 ELSE failure_count + 1 END,
          locked_until = CASE WHEN failure_count + 1 >= $2 THEN $4::timestamptz + make_interval(secs => $3) ELSE locked_until END
        WHERE id = $1
        RETURNING failure_count, locked_until`,
      [id, threshold, lockSeconds, now],
    );
    const row = rows[0];
    return row === undefined ? undefined : { failureCount: row.failure_count, lockedUntil: row.locked_until };
  }
}
