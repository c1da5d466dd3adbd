import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, LessThan } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity.js';

/** The only code that touches the audit_events table. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(event: AuditEventEntity, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(AuditEventEntity).insert(event);
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
   * Registrations expire silently in the pending store; this sweep makes the expiry visible.
   */
  async recordExpiries(lookbackHours: number): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(
      `INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
       SELECT gen_random_uuid(), c.client_id, c.user_id, c.device_id, 'REGISTRATION_EXPIRED', NULL, NULL, (c.detail->>'expiresAt')::timestamptz
         FROM audit_events c
        WHERE c.type = 'REGISTRATION_CREATED'
          AND c.created_at > now() - make_interval(hours => $1)
          AND (c.detail->>'expiresAt')::timestamptz < now()
          AND NOT EXISTS (
            SELECT 1 FROM audit_events t
             WHERE t.device_id = c.device_id
               AND t.type IN ('DEVICE_ACTIVATED', 'REGISTRATION_EXHAUSTED', 'REGISTRATION_DELETED', 'REGISTRATION_EXPIRED'))
       RETURNING seq`,
        [lookbackHours],
        true,
      );
      return result.records.length;
    } finally {
      await runner.release();
    }
  }

  /** Runs `work` only on the one replica that gets the lock; the others skip. */
  async exclusively(lockId: number, work: () => Promise<void>): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<Array<{ ok: boolean }>>('SELECT pg_try_advisory_xact_lock($1) AS ok', [lockId]);
      if (row?.ok !== true) return false;
      await work();
      return true;
    });
  }
}
