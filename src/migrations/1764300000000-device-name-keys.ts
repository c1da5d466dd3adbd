import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device names are unique per user by their look-alike key (UTS #39 skeleton, devices/device-name.ts)
 * as well as ignoring case. Safe on a large table and during a rolling deploy:
 * - the column is nullable, so adding it rewrites nothing, and replicas of the previous version
 *   keep inserting devices (without a key);
 * - the unique index covers keyed rows only; the case-insensitive index stays;
 * - a rename that does not set the key (the previous version's) clears it;
 * - keys are filled in by the service in the background, in batches (NameKeyBackfill).
 */
export class DeviceNameKeys1764300000000 implements MigrationInterface {
  name = 'DeviceNameKeys1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices ADD COLUMN name_key text');
    await q.query(
      `CREATE UNIQUE INDEX devices_active_name_key_uq ON devices (client_id, user_id, name_key) WHERE status = 'ACTIVE' AND name_key IS NOT NULL`,
    );
    await q.query('CREATE INDEX devices_name_key_missing_idx ON devices (created_at, id) WHERE name_key IS NULL');
    await q.query(`
      CREATE FUNCTION devices_name_key_stale() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.device_name IS DISTINCT FROM OLD.device_name AND NEW.name_key IS NOT DISTINCT FROM OLD.name_key THEN
          NEW.name_key := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(
      'CREATE TRIGGER devices_name_key_stale BEFORE UPDATE OF device_name ON devices FOR EACH ROW EXECUTE FUNCTION devices_name_key_stale()',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER devices_name_key_stale ON devices');
    await q.query('DROP FUNCTION devices_name_key_stale()');
    await q.query('DROP INDEX devices_name_key_missing_idx');
    await q.query('DROP INDEX devices_active_name_key_uq');
    await q.query('ALTER TABLE devices DROP COLUMN name_key');
  }
}
