import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import { DeviceEntity } from './device.entity.js';

export type InsertOutcome = 'OK' | 'ALREADY_ACTIVE' | 'NAME_TAKEN' | 'LIMIT_REACHED';
export interface FailureResult {
  failureCount: number;
  lockedUntil: Date | null;
}

const isUniqueViolation = (error: unknown, constraint: string): boolean =>
  error instanceof QueryFailedError && (error.driverError as { code?: string; constraint?: string }).code === '23505' &&
  (error.driverError as { constraint?: string }).constraint === constraint;

/** The only code that touches the devices table. Every lookup is scoped by client (tenant) and user. */
@Injectable()
export class DevicesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Rows of an UPDATE … RETURNING (DataSource.query would return [rows, count] for those). */
  private async returning<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(sql, parameters, true)).records as T[];
    } finally {
      await runner.release();
    }
  }

  private get repo() {
    return this.dataSource.getRepository(DeviceEntity);
  }

  findForClient(clientId: string, userId: string, id: string): Promise<DeviceEntity | null> {
    return this.repo.findOneBy({ id, clientId, userId });
  }

  /** Whether the id exists for this client and user (to tell "already active" from "unknown"). */
  async existsForClient(clientId: string, userId: string, id: string): Promise<boolean> {
    return this.repo.existsBy({ id, clientId, userId });
  }

  listForUser(clientId: string, userId: string): Promise<DeviceEntity[]> {
    return this.repo.find({ where: { clientId, userId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** How many active devices the user has, and whether one already has this name (ignoring case). */
  async activeSummary(clientId: string, userId: string, deviceName: string): Promise<{ count: number; nameTaken: boolean }> {
    const [row] = await this.dataSource.query<Array<{ count: number; taken: boolean | null }>>(
      `SELECT count(*)::int AS count, bool_or(lower(device_name) = lower($3)) AS taken
         FROM devices WHERE client_id = $1 AND user_id = $2 AND status = 'ACTIVE'`,
      [clientId, userId, deviceName],
    );
    return { count: row?.count ?? 0, nameTaken: row?.taken === true };
  }

  /**
   * Inserts an activated device, in one transaction with `alsoWrite` (the audit event). The user's
   * rows are serialised by an advisory lock so the per-user limit holds under concurrency.
   */
  async insertActive(device: DeviceEntity, maxPerUser: number, alsoWrite: (manager: EntityManager) => Promise<void>): Promise<InsertOutcome> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${device.clientId}:${device.userId}`]);
        const repo = manager.getRepository(DeviceEntity);
        if (await repo.existsBy({ id: device.id })) return 'ALREADY_ACTIVE';
        if ((await repo.countBy({ clientId: device.clientId, userId: device.userId })) >= maxPerUser) return 'LIMIT_REACHED';
        await repo.insert(device);
        await alsoWrite(manager);
        return 'OK';
      });
    } catch (error) {
      if (isUniqueViolation(error, 'devices_pkey')) return 'ALREADY_ACTIVE';
      if (isUniqueViolation(error, 'devices_active_name_uq')) return 'NAME_TAKEN';
      throw error;
    }
  }

  /** false when no such device; throws NAME_TAKEN as a result value instead of an error. */
  async rename(clientId: string, userId: string, id: string, deviceName: string): Promise<'OK' | 'NOT_FOUND' | 'NAME_TAKEN'> {
    try {
      const result = await this.repo.update({ id, clientId, userId }, { deviceName });
      return (result.affected ?? 0) > 0 ? 'OK' : 'NOT_FOUND';
    } catch (error) {
      if (isUniqueViolation(error, 'devices_active_name_uq')) return 'NAME_TAKEN';
      throw error;
    }
  }

  async delete(clientId: string, userId: string, id: string): Promise<boolean> {
    const result = await this.repo.delete({ id, clientId, userId });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Accepts a time step at most once: the update succeeds only when the step is later than the last
   * accepted one and the device is not locked, so two concurrent requests with one code cannot both pass.
   */
  async consumeStep(id: string, step: number, now: Date): Promise<boolean> {
    const rows = await this.returning(
      `UPDATE devices SET last_used_step = $2, last_used_at = $3, failure_count = 0, locked_until = NULL
        WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) AND (locked_until IS NULL OR locked_until <= $3)
        RETURNING id`,
      [id, step, now],
    );
    return rows.length > 0;
  }

  /** Counts a failure atomically; at the threshold the device locks and the count starts again. */
  async recordFailure(id: string, threshold: number, lockSeconds: number, now: Date): Promise<FailureResult | undefined> {
    const rows = await this.returning<{ failure_count: number; locked_until: Date | null }>(
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
