import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, LessThan } from 'typeorm';
import { type Sql, sqlOf } from '../config/sql.js';
import { AuditEventEntity } from './audit-event.entity.js';

interface Queued {
  event: AuditEventEntity;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export const AUDIT_COLUMNS = ['event_id', 'client_id', 'user_id', 'device_id', 'type', 'request_id', 'detail', 'created_at'];
const MAX_BATCH = 500;

/** The only code that touches the audit_events table. */
@Injectable()
export class AuditRepository {
  private queue: Queued[] = [];
  private flushing = false;

  private readonly sql: Sql;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sql = sqlOf(dataSource);
  }

  /**
   * Group commit: resolves once the event is written. Events that arrive while one INSERT is in
   * flight go together in the next one, so under load many requests share a round trip, and at
   * low load nothing waits.
   */
  insert(event: AuditEventEntity): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        // Not prepared: the text varies with the batch size.
        await this.sql(auditInsertSql(batch.length), auditValues(batch.map((q) => q.event)), { prepare: false });
        for (const q of batch) q.resolve();
      } catch (error) {
        for (const q of batch) q.reject(error);
      }
    }
    this.flushing = false;
  }

  /** Newest first, keyset-paginated on the sequence number. */
  listForUser(clientId: string, userId: string, limit: number, beforeSeq?: string): Promise<AuditEventEntity[]> {
    return this.dataSource.getRepository(AuditEventEntity).find({
      where: { clientId, userId, ...(beforeSeq === undefined ? {} : { seq: LessThan(beforeSeq) }) },
      order: { seq: 'DESC' },
      take: limit,
    });
  }

  /**
   * Writes REGISTRATION_EXPIRED for registrations whose TTL has passed with no other outcome.
   * Registrations expire silently in the pending store; this sweep makes the expiry visible. Runs on
   * one replica at a time (advisory lock; the others skip) and may take longer than a request may.
   */
  async recordExpiries(lockId: number, lookbackHours: number): Promise<number | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<Array<{ ok: boolean }>>('SELECT pg_try_advisory_xact_lock($1) AS ok', [lockId]);
      if (row?.ok !== true) return undefined;
      await manager.query("SET LOCAL statement_timeout = '60s'");
      const inserted = await manager.query<Array<{ n: number }>>(
        `WITH expired AS (
           INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
           SELECT gen_random_uuid(), c.client_id, c.user_id, c.device_id, 'REGISTRATION_EXPIRED', NULL, NULL, (c.detail->>'expiresAt')::timestamptz
             FROM audit_events c
            WHERE c.type = 'REGISTRATION_CREATED'
              AND c.created_at > now() - make_interval(hours => $1)
              AND (c.detail->>'expiresAt')::timestamptz < now()
              AND NOT EXISTS (
                SELECT 1 FROM audit_events t
                 WHERE t.device_id = c.device_id
                   AND t.type IN ('DEVICE_ACTIVATED', 'REGISTRATION_EXHAUSTED', 'REGISTRATION_DELETED', 'REGISTRATION_EXPIRED'))
           RETURNING 1)
         SELECT count(*)::int AS n FROM expired`,
        [lookbackHours],
      );
      return inserted[0]?.n ?? 0;
    });
  }
}

export function auditInsertSql(rows: number): string {
  const tuples = Array.from({ length: rows }, (_, r) => `(${AUDIT_COLUMNS.map((_, c) => `$${r * AUDIT_COLUMNS.length + c + 1}`).join(', ')})`);
  return `INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
}

const AUDIT_TYPES = ['uuid', 'uuid', 'text', 'uuid', 'text', 'text', 'jsonb', 'timestamptz'];

/**
 * `unnest(...) AS e(event_id, …)`: a row source of events passed as one array per column from
 * parameter `$first` on (see auditColumns), for batch statements whose text must not depend on
 * the number of rows (so Postgres can keep it prepared).
 */
export function auditUnnest(first: number): string {
  const arrays = AUDIT_TYPES.map((type, i) => `$${first + i}::${type}[]`).join(', ');
  return `unnest(${arrays}) AS e(${AUDIT_COLUMNS.join(', ')})`;
}

/** The events as one array per column, in AUDIT_COLUMNS order (the parameters of auditUnnest). */
export function auditColumns(events: AuditEventEntity[]): unknown[][] {
  const values = events.map((e) => auditValues([e]));
  return AUDIT_COLUMNS.map((_, c) => values.map((v) => v[c]));
}

export function auditValues(events: AuditEventEntity[]): unknown[] {
  return events.flatMap((e) => [e.eventId, e.clientId, e.userId, e.deviceId, e.type, e.requestId, e.detail === null ? null : JSON.stringify(e.detail), e.createdAt]);
}
