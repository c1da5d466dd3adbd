import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { PeriodicTask } from '../common/periodic.js';
import { deviceNameKey } from './device-name.js';
import { DevicesRepository } from './devices.repository.js';

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
    private readonly devices: DevicesRepository,
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
      const rows = await this.devices.findUnkeyedNames(BATCH);
      if (rows.length === 0) break;
      keyed += await this.key(rows);
      if (rows.length < BATCH) break;
    }
    if (keyed > 0) this.logger.info({ keyed }, 'device name keys filled in');
    return keyed;
  }

  private async key(rows: Array<{ id: string; deviceName: string }>): Promise<number> {
    const all = await this.devices.setNameKeys(rows.map((r) => ({ ...r, key: deviceNameKey(r.deviceName) })));
    if (all !== 'NAME_TAKEN') return all;
    // Some names collide with another active device of their user: each row on its own.
    let keyed = 0;
    for (const row of rows) {
      const key = deviceNameKey(row.deviceName);
      let one = await this.devices.setNameKeys([{ ...row, key }]);
      if (one === 'NAME_TAKEN') one = await this.devices.setNameKeys([{ ...row, key: `${key}:${row.id}` }]);
      if (one === 'NAME_TAKEN') throw new Error(`device ${row.id}: its name key is taken even with its id`);
      keyed += one;
    }
    return keyed;
  }
}
