import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AUDIT_COLUMNS, auditColumns, auditUnnest, auditValues } from '../audit/audit.repository.js';
import { Batcher, type BatchFailure, settleEach } from '../common/batcher.js';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig, UUID_V4 } from '../config/config.js';
import { deviceNameKey } from './device-name.js';
import { type Sql, sqlOf } from '../config/sql.js';
import { DeviceEntity } from './device.entity.js';

export type InsertOutcome = 'OK' | 'ALREADY_ACTIVE' | 'NAME_TAKEN' | 'LIMIT_REACHED' | 'INVALID_DATA';

/**
 * The decision on one code for one device. LOCKED: refused unseen (the device was locked);
 * LOCKED_NOW: this failure locked it; REJECTED: a wrong code or a replay (`replay`). `lockedUntil`
 * is set for LOCKED and LOCKED_NOW only.
 */
export type AttemptOutcome = 'ACCEPTED' | 'REJECTED' | 'LOCKED_NOW' | 'LOCKED' | 'NOT_FOUND';
export interface AttemptResult {
  outcome: AttemptOutcome;
  lockedUntil: Date | null;
  replay: boolean;
}
export interface AttemptInput {
  clientId: string;
  userId: string;
  id: string;
  /** The time step the code matched, or null for a code that matched none. */
  step: number | null;
  now: Date;
  threshold: number;
  lockSeconds: number;
  requestId: string;
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

// SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): one row's contents,
// not the statement, are wrong. In a batch, such a row must fail alone (issue 10).
const rowError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
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
 * One code's attempt on one device, decided atomically: the row is locked, then a locked device
 * refuses without counting, a matching step later than the last accepted one is accepted (count
 * reset), and anything else counts a failure, the threshold-th of which locks the device and
 * starts a clean count. Because the count is checked on the locked row before a guess's outcome is
 * applied, at most `threshold` wrong codes are ever decided per lock period, however many arrive
 * at once on however many replicas (issue 10). Its audit events are written in the same statement.
 */
const ATTEMPT_SQL = `WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[], $6::int[], $7::int[], $8::text[])
      AS i(id, client_id, user_id, step, at, threshold, lock_secs, request_id)
  ), target AS (
    SELECT d.id, d.last_used_step, d.failure_count, d.locked_until, i.client_id, i.user_id, i.step, i.at, i.threshold, i.lock_secs, i.request_id
      FROM devices d JOIN input i ON d.id = i.id AND d.client_id = i.client_id AND d.user_id = i.user_id
     ORDER BY d.id
       FOR UPDATE OF d
  ), decided AS (
    SELECT t.*, o.outcome, o.outcome = 'ACCEPTED' AS ok,
           t.step IS NOT NULL AND o.outcome IN ('REJECTED', 'LOCKED_NOW') AS replay,
           CASE WHEN o.outcome = 'LOCKED_NOW' THEN t.at + make_interval(secs => t.lock_secs) END AS new_lock
      FROM target t CROSS JOIN LATERAL (SELECT CASE
             WHEN t.locked_until > t.at THEN 'LOCKED'
             WHEN t.step IS NOT NULL AND (t.last_used_step IS NULL OR t.last_used_step < t.step) THEN 'ACCEPTED'
             WHEN t.failure_count + 1 >= t.threshold THEN 'LOCKED_NOW'
             ELSE 'REJECTED' END AS outcome) o
  ), changed AS (
    UPDATE devices d SET
        last_used_step = CASE WHEN x.ok THEN x.step ELSE d.last_used_step END,
        last_used_at = CASE WHEN x.ok THEN x.at ELSE d.last_used_at END,
        failure_count = CASE WHEN x.outcome = 'REJECTED' THEN x.failure_count + 1 ELSE 0 END,
        locked_until = x.new_lock
      FROM decided x WHERE d.id = x.id AND x.outcome <> 'LOCKED'
    RETURNING d.id
  ), audit AS (
    INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
    SELECT gen_random_uuid(), x.client_id, x.user_id, x.id, e.type, x.request_id,
           CASE WHEN e.type = 'DEVICE_LOCKED' THEN jsonb_build_object('lockedUntil', to_char(x.new_lock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
           x.at
      FROM decided x CROSS JOIN LATERAL (VALUES
             (1, x.ok, 'OTP_VERIFIED'), (2, x.replay, 'REPLAY_REFUSED'),
             (3, x.outcome IN ('REJECTED', 'LOCKED_NOW'), 'VERIFICATION_FAILED'), (4, x.outcome = 'LOCKED_NOW', 'DEVICE_LOCKED')) AS e(n, happened, type)
     WHERE e.happened
     ORDER BY x.id, e.n
  )
  SELECT x.id, x.outcome, CASE x.outcome WHEN 'LOCKED_NOW' THEN x.new_lock WHEN 'LOCKED' THEN x.locked_until END AS locked_until, x.replay
    FROM decided x`;

interface AttemptRow {
  id: string;
  outcome: Exclude<AttemptOutcome, 'NOT_FOUND'>;
  locked_until: Date | null;
  replay: boolean;
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
  private readonly attempts: Batcher<AttemptInput, AttemptResult>;
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
    // of two replicas do not deadlock in the usual plan; if they ever do, or one row's data is
    // refused, each request is decided on its own statement.
    this.attempts = new Batcher(async (inputs) => {
      try {
        return await this.runAttempts(inputs);
      } catch (error) {
        if (inputs.length === 1 || (!lockConflict(error) && !rowError(error))) throw error;
        return settleEach(inputs, async (i) => (await this.runAttempts([i]))[0]);
      }
    }, { ...BATCH, key: (i) => i.id });
    this.admissions = new Batcher(async (inputs) => {
      const rows = await this.sql<{ outcome: AdmissionOutcome }>(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::uuid[]) WITH ORDINALITY AS i(client_id, user_id, name_key, max_active, event_id, n)
         ), summary AS (
           SELECT i.n, i.event_id,
                  CASE WHEN coalesce(bool_or(d.name_key = i.name_key), false) THEN 'NAME_TAKEN'
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
          inputs.map((i) => i.clientId), inputs.map((i) => i.userId), inputs.map((i) => deviceNameKey(i.deviceName)), inputs.map((i) => i.maxActive),
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
      `SELECT count(*)::int AS count, bool_or(name_key = $3) AS taken
         FROM devices WHERE client_id = $1 AND user_id = $2 AND status = 'ACTIVE'`,
      [clientId, userId, deviceNameKey(deviceName)],
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
                                $11::bigint[], $12::timestamptz[], $13::timestamptz[], $14::int[], $15::text[])
             AS i(id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, last_used_step, created_at, activated_at, max_per_user, name_key)
         ), slot AS (
           INSERT INTO user_device_counts AS c (client_id, user_id, active)
           SELECT client_id, user_id, 1 FROM input ORDER BY client_id, user_id
           ON CONFLICT (client_id, user_id) DO UPDATE SET active = c.active + 1
            WHERE c.active < (SELECT max_per_user FROM input i WHERE i.client_id = c.client_id AND i.user_id = c.user_id)
           RETURNING client_id, user_id
         ), device AS (
           INSERT INTO devices (id, client_id, user_id, device_type, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, status,
                                last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at)
           SELECT i.id, i.client_id, i.user_id, i.device_type, i.device_name, i.name_key, i.sealed_secret, i.key_id, i.algorithm, i.digits, i.period, 'ACTIVE',
                  i.last_used_step, 0, NULL, i.created_at, i.activated_at, NULL
             FROM input i JOIN slot s ON s.client_id = i.client_id AND s.user_id = i.user_id
           RETURNING id
         ), audit AS (
           INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')})
           SELECT e.* FROM ${auditUnnest(16)} WHERE e.device_id IN (SELECT id FROM device)
         )
         SELECT id FROM device`,
        [
          column((d) => d.id), column((d) => d.clientId), column((d) => d.userId), column((d) => d.deviceType), column((d) => d.deviceName),
          column((d) => d.sealedSecret), column((d) => d.keyId), column((d) => d.algorithm), column((d) => d.digits), column((d) => d.period),
          column((d) => d.lastUsedStep), column((d) => d.createdAt), column((d) => d.activatedAt), inputs.map((i) => i.maxPerUser),
          column((d) => deviceNameKey(d.deviceName)), ...auditColumns(inputs.map((i) => i.event)),
        ],
      );
      const inserted = new Set(rows.map((r) => r.id));
      return inputs.map((i) => (inserted.has(i.device.id) ? 'OK' : 'LIMIT_REACHED'));
    } catch (error) {
      if (!rowError(error) && !lockConflict(error)) throw error;
      // One at a time, each with its own outcome or error: a device saved here is never reported
      // as failed because another activation of the batch failed.
      return settleEach(inputs, (i) => this.insertOne(i));
    }
  }

  private async insertOne({ device, maxPerUser, event }: ActivationInput): Promise<InsertOutcome> {
    const d = device;
    const auditParams = AUDIT_COLUMNS.map((_, i) => `$${20 + i}`).join(', ');
    try {
      const rows = await this.sql<{ id: string }>(
        `WITH slot AS (
           INSERT INTO user_device_counts AS c (client_id, user_id, active) VALUES ($2, $3, 1)
           ON CONFLICT (client_id, user_id) DO UPDATE SET active = c.active + 1 WHERE c.active < $18
           RETURNING 1
         ), device AS (
           INSERT INTO devices (id, client_id, user_id, device_type, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, status,
                                last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at)
           SELECT $1, $2, $3, $4, $5, $19, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM slot
           RETURNING id
         ), audit AS (
           INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) SELECT ${auditParams} FROM device
         )
         SELECT id FROM device`,
        [
          d.id, d.clientId, d.userId, d.deviceType, d.deviceName, d.sealedSecret, d.keyId, d.algorithm, d.digits, d.period, d.status,
          d.lastUsedStep, d.failureCount, d.lockedUntil, d.createdAt, d.activatedAt, d.lastUsedAt, maxPerUser, deviceNameKey(d.deviceName), ...auditValues([event]),
        ],
      );
      return rows.length > 0 ? 'OK' : 'LIMIT_REACHED';
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'devices_pkey') return 'ALREADY_ACTIVE';
      if (constraint === 'devices_active_name_key_uq') return 'NAME_TAKEN';
      // The registration holds something the table refuses (stored before today's checks).
      if (rowError(error)) return 'INVALID_DATA';
      throw error;
    }
  }

  async rename(clientId: string, userId: string, id: string, deviceName: string): Promise<'OK' | 'NOT_FOUND' | 'NAME_TAKEN'> {
    try {
      const rows = await this.sql('UPDATE devices SET device_name = $4, name_key = $5 WHERE id = $1 AND client_id = $2 AND user_id = $3 RETURNING id', [
        id,
        clientId,
        userId,
        deviceName,
        deviceNameKey(deviceName),
      ]);
      return rows.length > 0 ? 'OK' : 'NOT_FOUND';
    } catch (error) {
      if (uniqueViolation(error) === 'devices_active_name_key_uq') return 'NAME_TAKEN';
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

  /** Decides one code for one device (see ATTEMPT_SQL); concurrent attempts share a statement. */
  async attempt(input: AttemptInput): Promise<AttemptResult> {
    return this.attempts.submit(input);
  }

  private async runAttempts(inputs: AttemptInput[]): Promise<AttemptResult[]> {
    const rows = await this.sql<AttemptRow>(ATTEMPT_SQL, [
      inputs.map((i) => i.id),
      inputs.map((i) => i.clientId),
      inputs.map((i) => i.userId),
      inputs.map((i) => i.step),
      inputs.map((i) => i.now),
      inputs.map((i) => i.threshold),
      inputs.map((i) => i.lockSeconds),
      inputs.map((i) => i.requestId),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inputs.map((i) => {
      const row = byId.get(i.id);
      return row === undefined ? { outcome: 'NOT_FOUND', lockedUntil: null, replay: false } : { outcome: row.outcome, lockedUntil: row.locked_until, replay: row.replay };
    });
  }
}
