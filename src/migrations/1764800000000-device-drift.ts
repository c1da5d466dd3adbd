import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drift (API.md §12): each device's clock offset in time steps, as its last accepted code showed
 * it; the verification window is centred on it (bounded to ±10 minutes).
 */
export class DeviceDrift1764800000000 implements MigrationInterface {
  name = 'DeviceDrift1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices ADD COLUMN drift smallint NOT NULL DEFAULT 0 CHECK (drift BETWEEN -40 AND 40)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices DROP COLUMN drift');
  }
}
