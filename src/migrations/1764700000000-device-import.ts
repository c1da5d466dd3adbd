import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Importing existing authenticators (API.md §12): the caller's own id for an imported device,
 * unique per client, so an import run twice imports nothing twice.
 */
export class DeviceImport1764700000000 implements MigrationInterface {
  name = 'DeviceImport1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE devices ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 128)');
    await q.query('CREATE UNIQUE INDEX devices_external_id_uq ON devices (client_id, external_id) WHERE external_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX devices_external_id_uq');
    await q.query('ALTER TABLE devices DROP COLUMN external_id');
  }
}
