import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AUDIT_COLUMNS, auditColumns, auditUnnest, auditValues } from '../audit/audit.repository.js';
import { Batcher, type BatchFailure, settleEach } from '../common/batcher.js';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig, UUID_V4 } from '../config/config.js';
import { type Sql, sqlOf } from '../config/sql.js';
import { DeviceEntity } from './device.entity.js';

export type InsertOutcome = 'OK' | 'ALREADY_ACTIVE' | 'NAME_TAKEN' | 'LIMIT_REACHED';
export interface FailureResult {
  failureCount: number;
  lockedUntil: Date | null;
}

// deadlock_detected, serialization_failure: batches of two replicas met on rows in opposite orders.
const lockConflict = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
};

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

interface StepInput {
  id: string;
  step: number;
  now: Date;
  event: AuditEventEntity;
}

interface ActivationInput {
  device: DeviceEntity;
  maxPerUser: number;
  event: AuditEventEntity;
}

interface AdmissionInput {
  clientId: string;
  userId: string;
  deviceName: string;
  maxActive: number;
  event: AuditEventEntity;
}

export type AdmissionOutcome = 'OK' | 'NAME_TAKEN' | 'LIMIT_REACHED';

const MAX_BATCH = 128;

/**
 * The only code that touches the devices table. Every lookup is scoped by client (tenant) and user.
 * Hot paths are single parameterised statements (verification and activation run thousands of
 * times a second); TypeORM's query builder cost showed in the profile. The hottest ones (reading a
 * device, accepting a time step, the create-time check, the activation insert) are batched:
 * requests arriving while the previous statement runs share the next one, so under load a round
 * trip and a commit serve many.
 */
@Injectable()
export class DevicesRepository {
  private readonly sql: Sql;
  private readonly reads: Batcher<string, DeviceRow | undefined>;
  private readonly steps: Batcher<StepInput, boolean>;
  private readonly admissions: Batcher<AdmissionInput, AdmissionOutcome>;
  private readonly activations: Batcher<ActivationInput, InsertOutcome>;

  constructor(@InjectDataSource() dataSource: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.sql = sqlOf(dataSource);
    // Up to MAX_BATCH requests share one statement. The four batched kinds together hold at most
    // pool size - 2 connections, so unbatched statements always find one. A request waits at most
    // half a dependency timeout for its statement to start, then answers 503: with Postgres hung it
    // is not held for one stuck statement after another (the statement itself then has its own
    // connection and statement timeouts).
    const queueTimeoutMs = Math.ceil(config.dependencyTimeoutMs / 2);
    const BATCH = {
      maxBatch: MAX_BATCH,
      maxInFlight: Math.max(1, Math.floor((config.dbPoolSize - 2) / 4)),
      queueTimeoutMs,
      queueTimeoutError: () => new DependencyUnavailableError('postgres', new Error(`no statement slot within ${queueTimeoutMs} ms`)),
    };
    this.reads = new Batcher(async (ids) => {
      const rows = await this.sql<DeviceRow>(`${SELECT_DEVICE} WHERE id = ANY($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    }, BATCH);
    // Keyed by device: one device never appears twice in a statement, nor in two at once, so two
    // codes for one device are decided one after the other. Rows are locked in id order, so batches
    // of two replicas do not deadlock in the usual plan; if they ever do, each request is decided
    // on its own statement.
    this.steps = new Batcher(async (unsorted) => {
      const inputs = [...unsorted].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let rows: Array<{ id: string }>;
      try {
        rows = await this.sql<{ id: string }>(
          `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS i(id, step, at)
           ), used AS (
             UPDATE devices d SET last_used_step = i.step, last_used_at = i.at, failure_count = 0, locked_until = NULL
               FROM input i
              WHERE d.id = i.id AND (d.last_used_step IS NULL OR d.last_used_step < i.step) AND (d.locked_until IS NULL OR d.locked_until <= i.at)
              RETURNING d.id
           ), audit AS (
             INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')})
             SELECT e.* FROM ${auditUnnest(4)} WHERE e.device_id IN (SELECT id FROM used)
           )
           SELECT id FROM used`,
          [inputs.map((i) => i.id), inputs.map((i) => i.step), inputs.map((i) => i.now), ...auditColumns(inputs.map((i) => i.event))],
        );
      } catch (error) {
        if (!lockConflict(error)) throw error;
        return settleEach(unsorted, (i) => this.consumeOne(i));
      }
      const used = new Set(rows.map((r) => r.id));
      return unsorted.map((i) => used.has(i.id));
    }, { ...BATCH, key: (i) => i.id });
    this.admissions = new Batcher(async (inputs) => {
      const rows = await this.sql<{ outcome: AdmissionOutcome }>(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::uuid[]) WITH ORDINALITY AS i(client_id, user_id, name, max_active, event_id, n)
         ), summary AS (
           SELECT i.n, i.event_id,
                  CASE WHEN coalesce(bool_or(lower(d.device_name) = lower(i.name)), false) THEN 'NAME_TAKEN'
                       WHEN count(d.id) >= min(i.max_active) THEN 'LIMIT_REACHED'
                       ELSE 'OK' END AS outcome
             FROM input i LEFT JOIN devices d ON d.client_id = i.client_id AND d.user_id = i.user_id AND d.status = 'ACTIVE'
            GROUP BY i.n, i.event_id
         ), audit AS (
           INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')})
           SELECT e.* FROM ${auditUnnest(6)} WHERE e.event_id IN (SELECT event_id FROM summary WHERE outcome = 'OK')
         )
         SELECT outcome FROM summary ORDER BY n`,
        [
          inputs.map((i) => i.clientId), inputs.map((i) => i.userId), inputs.map((i) => i.deviceName), inputs.map((i) => i.maxActive),
          inputs.map((i) => i.event.eventId), ...auditColumns(inputs.map((i) => i.event)),
        ],
      );
      return rows.map((r) => r.outcome);
    }, BATCH);
    // Keyed by user: a user's counter row appears once per statement (ON CONFLICT cannot update a
    // row twice in one command) and in one statement at a time on this replica; the statement takes
    // counter rows in (client, user) order (its ORDER BY) against other replicas' batches.
    this.activations = new Batcher((inputs) => this.insertActiveBatch(inputs), { ...BATCH, key: (i) => `${i.device.clientId}:${i.device.userId}` });
  }

  async findForClient(clientId: string, userId: string, id: string): Promise<DeviceEntity | null> {
    // Only well-formed ids join a batch: one bad value would fail the statement for all of it.
    if (!UUID_V4.test(id)) return null;
    const row = await this.reads.submit(id.toLowerCase());
    return row === undefined || row.client_id !== clientId || row.user_id !== userId ? null : toEntity(row);
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
   * The create-time check of a new registration against the user's active devices (name free,
   * under the limit), and its REGISTRATION_CREATED event, written only when the check passes: one
   * batched statement. The activation checks both again, atomically (insertActive).
   */
  admitRegistration(clientId: string, userId: string, deviceName: string, maxActive: number, event: AuditEventEntity): Promise<AdmissionOutcome> {
    return this.admissions.submit({ clientId, userId, deviceName, maxActive, event });
  }

  /**
   * Inserts an activated device and its audit event in one statement (so in one transaction and
   * one round trip): a slot is taken in user_device_counts only while the user is under the limit,
   * then the device and the event are written. A duplicate id or name aborts the whole statement.
   * Concurrent activations share a statement (batched); see insertActiveBatch.
   */
  insertActive(device: DeviceEntity, maxPerUser: number, event: AuditEventEntity): Promise<InsertOutcome> {
    return this.activations.submit({ device, maxPerUser, event });
  }

  /**
   * The batch form of insertOne. A duplicate id or name in any row aborts the statement as a whole
   * (nothing of it is written); then each activation is decided on its own, which tells which one
   * collided. Collisions are rare (the claim lock in the pending store keeps one activation per
   * registration), so the fallback costs little.
   */
  private async insertActiveBatch(inputs: ActivationInput[]): Promise<Array<InsertOutcome | BatchFailure>> {
    if (inputs.length === 1) return [await this.insertOne(inputs[0])];
    const column = <T>(f: (d: DeviceEntity) => T): T[] => inputs.map((i) => f(i.device));
    try {
      const rows = await this.sql<{ id: string }>(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::int[],
                                $11::bigint[], $12::timestamptz[], $13::timestamptz[], $14::int[])
             AS i(id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, last_used_step, created_at, activated_at, max_per_user)
         ), slot AS (
           INSERT INTO user_device_counts AS c (client_id, user_id, active)
           SELECT client_id, user_id, 1 FROM input ORDER BY client_id, user_id
           ON CONFLICT (client_id, user_id) DO UPDATE SET active = c.active + 1
            WHERE c.active < (SELECT max_per_user FROM input i WHERE i.client_id = c.client_id AND i.user_id = c.user_id)
           RETURNING client_id, user_id
         ), device AS (
           INSERT INTO devices (id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, status,
                                last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at)
           SELECT i.id, i.client_id, i.user_id, i.device_type, i.device_name, i.sealed_secret, i.key_id, i.algorithm, i.digits, i.period, 'ACTIVE',
                  i.last_used_step, 0, NULL, i.created_at, i.activated_at, NULL
             FROM input i JOIN slot s ON s.client_id = i.client_id AND s.user_id = i.user_id
           RETURNING id
         ), audit AS (
           INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')})
           SELECT e.* FROM ${auditUnnest(15)} WHERE e.device_id IN (SELECT id FROM device)
         )
         SELECT id FROM device`,
        [
          column((d) => d.id), column((d) => d.clientId), column((d) => d.userId), column((d) => d.deviceType), column((d) => d.deviceName),
          column((d) => d.sealedSecret), column((d) => d.keyId), column((d) => d.algorithm), column((d) => d.digits), column((d) => d.period),
          column((d) => d.lastUsedStep), column((d) => d.createdAt), column((d) => d.activatedAt), inputs.map((i) => i.maxPerUser),
          ...auditColumns(inputs.map((i) => i.event)),
        ],
      );
      const inserted = new Set(rows.map((r) => r.id));
      return inputs.map((i) => (inserted.has(i.device.id) ? 'OK' : 'LIMIT_REACHED'));
    } catch (error) {
      if (uniqueViolation(error) === undefined && !lockConflict(error)) throw error;
      // One at a time, each with its own outcome or error: a device saved here is never reported
      // as failed because another activation of the batch failed.
      return settleEach(inputs, (i) => this.insertOne(i));
    }
  }

  private async insertOne({ device, maxPerUser, event }: ActivationInput): Promise<InsertOutcome> {
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
  consumeStep(id: string, step: number, now: Date, event: AuditEventEntity): Promise<boolean> {
    return this.steps.submit({ id, step, now, event });
  }

  /** consumeStep for one device in its own statement (the fallback of a batch). */
  private async consumeOne({ id, step, now, event }: StepInput): Promise<boolean> {
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
