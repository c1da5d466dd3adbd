import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access tokens carry their client's token generation (claim `gen`); rotating the secret (by
 * default) or disabling the client raises it, so tokens issued before stop working everywhere
 * within the client cache's second, instead of living on until they expire.
 */
export class ClientTokenGeneration1764300100000 implements MigrationInterface {
  name = 'ClientTokenGeneration1764300100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE oauth_clients ADD COLUMN token_generation integer NOT NULL DEFAULT 0');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE oauth_clients DROP COLUMN token_generation');
  }
}
