import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { PeriodicTask } from '../common/periodic.js';
import { uniqueViolation } from '../database/database-errors.js';
import { Database } from '../database/database.js';
import { deviceNameKey } from './device-name.js';

const BATCH = 500;
// While rows without a key can still appear (replicas of the previous version during a rolling deploy).
const INTERVAL_MS = 60_000;

/**
 * Fills in the look-alike keys of device names that have none (rows from before the key existed,
 * or written or renamed by a replica of the previous version), a batch at a time, in the background.
 * Idempotent and safe on several replicas at once: a row is only keyed while it still lacks a key
 * and still has the name the key was computed from. Two existing active devices whose names now
 * collide both keep their names; the later gets a key made unique with its id.
 */
@Injectable()
export class NameKeyBackfill implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask('device name key backfill', INTERVAL_MS, async () => void (await this.fillMissing()), logger);
  }

  onApplicationBootstrap(): void {
    this.task.start({ now: true });
  }

  onApplicationShutdown(): void {
    this.task.stop();
  }

  /** Keys every row that lacks one; returns how many it keyed. */
  async fillMissing(): Promise<number> {
    let keyed = 0;
    for (;;) {
      const rows = await this.db.query<{ id: string; device_name: string }>(
        'SELECT id, device_name FROM devices WHERE name_key IS NULL ORDER BY created_at, id LIMIT $1',
        [BATCH],
        { timeoutMs: 30_000 },
      );
      if (rows.length === 0) break;
      keyed += await this.key(rows);
      if (rows.length < BATCH) break;
    }
    if (keyed > 0) this.logger.info({ keyed }, 'device name keys filled in');
    return keyed;
  }

  private async key(rows: Array<{ id: string; device_name: string }>): Promise<number> {
    const update = (subset: typeof rows, key: (r: (typeof rows)[number]) => string) =>
      this.db.query(
        `UPDATE devices d SET name_key = v.key FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, name, key)
          WHERE d.id = v.id AND d.name_key IS NULL AND d.device_name = v.name RETURNING d.id`,
        [subset.map((r) => r.id), subset.map((r) => r.device_name), subset.map(key)],
        { timeoutMs: 30_000 },
      );
    try {
      return (await update(rows, (r) => deviceNameKey(r.device_name))).length;
    } catch (error) {
      if (uniqueViolation(error) !== 'devices_active_name_key_uq') throw error;
    }
    // Some names collide with another active device of their user: each row on its own.
    let keyed = 0;
    for (const row of rows) {
      const key = deviceNameKey(row.device_name);
      try {
        keyed += (await update([row], () => key)).length;
      } catch (error) {
        if (uniqueViolation(error) !== 'devices_active_name_key_uq') throw error;
        keyed += (await update([row], () => `${key}:${row.id}`)).length;
      }
    }
    return keyed;
  }
}
