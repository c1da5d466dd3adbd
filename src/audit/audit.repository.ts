import { Injectable } from '@nestjs/common';
import type { Batcher } from '../common/batcher.js';
import { BatchedStatements } from '../database/batched-statements.js';
import { Database } from '../database/database.js';
import type { AuditEvent, AuditEventType } from './audit-event.js';

interface AuditRow {
  seq: string;
  event_id: string;
  client_id: string;
  user_id: string;
  device_id: string | null;
  type: AuditEventType;
  request_id: string | null;
  detail: Record<string, string | number> | null;
  created_at: Date;
}

const toEvent = (r: AuditRow): AuditEvent => ({
  seq: r.seq,
  eventId: r.event_id,
  clientId: r.client_id,
  userId: r.user_id,
  deviceId: r.device_id,
  type: r.type,
  requestId: r.request_id,
  detail: r.detail,
  createdAt: r.created_at,
});

const INSERT = `INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])`;

// Any constant works; all replicas must use the same one.
const EXPIRY_SWEEP_LOCK = 734_201_339;

/** The audit_events table (and insertAuditEvents in audit-sql.ts for statements of other tables). */
@Injectable()
export class AuditRepository {
  private readonly inserts: Batcher<Omit<AuditEvent, 'seq'>, undefined>;

  constructor(
    private readonly db: Database,
    batches: BatchedStatements,
  ) {
    // Group commit: events arriving while one INSERT runs go together in the next one.
    this.inserts = batches.create(
      'audit_insert',
      async (events) => {
        const column = <T>(f: (e: Omit<AuditEvent, 'seq'>) => T): T[] => events.map(f);
        await db.query(INSERT, [
          column((e) => e.eventId),
          column((e) => e.clientId),
          column((e) => e.userId),
          column((e) => e.deviceId),
          column((e) => e.type),
          column((e) => e.requestId),
          column((e) => (e.detail === null ? null : JSON.stringify(e.detail))),
          column((e) => e.createdAt),
        ]);
        return events.map(() => undefined);
      },
      { hot: false },
    );
  }

  async insert(event: Omit<AuditEvent, 'seq'>): Promise<void> {
    await this.inserts.submit(event);
  }

  /** Erasing a user: their events stay, without the names they gave their devices. */
  async forgetDeviceNames(clientId: string, userId: string): Promise<void> {
    await this.db.query(`UPDATE audit_events SET detail = detail - 'deviceName' WHERE client_id = $1 AND user_id = $2 AND detail ? 'deviceName'`, [
      clientId,
      userId,
    ]);
  }

  /** Newest first, keyset-paginated on the sequence number; may be read from the replica. */
  async listForUser(clientId: string, userId: string, limit: number, beforeSeq?: string): Promise<AuditEvent[]> {
    const rows = await this.db.read<AuditRow>(
      `SELECT seq, event_id, client_id, user_id, device_id, type, request_id, detail, created_at FROM audit_events
        WHERE client_id = $1 AND user_id = $2 AND ($3::bigint IS NULL OR seq < $3::bigint)
        ORDER BY seq DESC LIMIT $4`,
      [clientId, userId, beforeSeq ?? null, limit],
    );
    return rows.map(toEvent);
  }

  /**
   * Writes REGISTRATION_EXPIRED for registrations whose TTL has passed with no other outcome.
   * Registrations expire silently in the pending store; this sweep makes the expiry visible. Runs on
   * one replica at a time (advisory lock; the others skip) and may take longer than a request may.
   * Returns the numbers recorded, or undefined when another replica holds the sweep.
   */
  recordExpiries(now: Date, lookbackHours: number): Promise<{ registrations: number; logins: number } | undefined> {
    return this.db.transaction(async (tx) => {
      const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [EXPIRY_SWEEP_LOCK]);
      if (lock?.ok !== true) return undefined;
      const count = async (statement: string) => (await tx.query<{ n: number }>(statement, [now, lookbackHours], { timeoutMs: 60_000 }))[0]?.n ?? 0;
      return { registrations: await count(REGISTRATION_EXPIRIES), logins: await count(LOGIN_EXPIRIES) };
    });
  }
}

// What an erasure removed (a USER_ERASED after it, for that client and user) did not expire.
const NOT_ERASED = `NOT EXISTS (
        SELECT 1 FROM audit_events e
         WHERE e.client_id = c.client_id AND e.user_id = c.user_id AND e.type = 'USER_ERASED' AND e.seq > c.seq)`;

const REGISTRATION_EXPIRIES = `WITH expired AS (
   INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
   SELECT gen_random_uuid(), c.client_id, c.user_id, c.device_id, 'REGISTRATION_EXPIRED', NULL, NULL, (c.detail->>'expiresAt')::timestamptz
     FROM audit_events c
    WHERE c.type = 'REGISTRATION_CREATED'
      AND c.created_at > $1::timestamptz - make_interval(hours => $2)
      AND (c.detail->>'expiresAt')::timestamptz < $1::timestamptz
      AND NOT EXISTS (
        SELECT 1 FROM audit_events t
         WHERE t.device_id = c.device_id
           AND t.type IN ('DEVICE_ACTIVATED', 'REGISTRATION_EXHAUSTED', 'REGISTRATION_DELETED', 'REGISTRATION_EXPIRED'))
      AND ${NOT_ERASED}
   RETURNING 1)
 SELECT count(*)::int AS n FROM expired`;

// A login request is decided (or failed) before its expiry, and its event is written right after;
// the 30 s grace keeps the sweep from calling a request expired whose decision is being recorded.
const LOGIN_EXPIRIES = `WITH expired AS (
   INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
   SELECT gen_random_uuid(), c.client_id, c.user_id, c.device_id, 'LOGIN_EXPIRED', NULL,
          jsonb_build_object('loginRequestId', c.detail->>'loginRequestId'), (c.detail->>'expiresAt')::timestamptz
     FROM audit_events c
    WHERE c.type = 'LOGIN_REQUESTED'
      AND c.created_at > $1::timestamptz - make_interval(hours => $2)
      AND (c.detail->>'expiresAt')::timestamptz < $1::timestamptz - interval '30 seconds'
      AND NOT EXISTS (
        SELECT 1 FROM audit_events t
         WHERE t.detail ? 'loginRequestId'
           AND t.detail->>'loginRequestId' = c.detail->>'loginRequestId'
           AND t.type IN ('LOGIN_APPROVED', 'LOGIN_DENIED', 'LOGIN_FAILED', 'LOGIN_EXPIRED', 'LOGIN_REDEEMED'))
      AND ${NOT_ERASED}
   RETURNING 1)
 SELECT count(*)::int AS n FROM expired`;
