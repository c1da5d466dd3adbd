import type { MigrationInterface, QueryRunner } from 'typeorm';
import { deviceNameKey } from '../devices/device-name.js';

/**
 * Device names are unique per user ignoring case and look-alike characters (UTS #39 skeleton,
 * devices/device-name.ts): the key is stored and indexed, so concurrent activations are held to it
 * by the database. Existing active devices whose names now collide keep their names; all but the
 * oldest get a key made unique with their id.
 */
export class DeviceNameKeys1764300000000 implements MigrationInterface {
  name = 'DeviceNameKeys1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices ADD COLUMN name_key text');
    const rows = (await q.query('SELECT id, client_id, user_id, device_name FROM devices ORDER BY client_id, user_id, created_at, id')) as Array<{
      id: string;
      client_id: string;
      user_id: string;
      device_name: string;
    }>;
    const seen = new Set<string>();
    for (const row of rows) {
      const key = deviceNameKey(row.device_name);
      const owner = `${row.client_id}:${row.user_id}:${key}`;
      await q.query('UPDATE devices SET name_key = $2 WHERE id = $1', [row.id, seen.has(owner) ? `${key}:${row.id}` : key]);
      seen.add(owner);
    }
    await q.query('ALTER TABLE devices ALTER COLUMN name_key SET NOT NULL');
    await q.query('DROP INDEX devices_active_name_uq');
    await q.query(`CREATE UNIQUE INDEX devices_active_name_key_uq ON devices (client_id, user_id, name_key) WHERE status = 'ACTIVE'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX devices_active_name_key_uq');
    await q.query(`CREATE UNIQUE INDEX devices_active_name_uq ON devices (client_id, user_id, lower(device_name)) WHERE status = 'ACTIVE'`);
    await q.query('ALTER TABLE devices DROP COLUMN name_key');
  }
}
