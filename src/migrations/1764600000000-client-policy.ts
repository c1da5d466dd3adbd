import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant policy (API.md §12): a client's overrides of the TOTP defaults for new devices, and the
 * window each device keeps (NULL for devices from before: the service's TOTP_WINDOW).
 */
export class ClientPolicy1764600000000 implements MigrationInterface {
  name = 'ClientPolicy1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_clients ADD COLUMN policy jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(policy) = 'object')`);
    await q.query('ALTER TABLE devices ADD COLUMN totp_window smallint CHECK (totp_window BETWEEN 0 AND 3)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices DROP COLUMN totp_window');
    await q.query('ALTER TABLE oauth_clients DROP COLUMN policy');
  }
}
