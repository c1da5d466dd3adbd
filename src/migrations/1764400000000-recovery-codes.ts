import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recovery codes (API.md §10): one set per user and client, its codes stored only as keyed hashes
 * (HMAC-SHA-256 under a key derived from the encryption key named by key_id), and the user's
 * lock against guessing (failures, locked_until) on the set's row, which every verification locks.
 */
export class RecoveryCodes1764400000000 implements MigrationInterface {
  name = 'RecoveryCodes1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE recovery_code_sets (
      client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
      user_id text NOT NULL,
      generation integer NOT NULL DEFAULT 1,
      key_id text NOT NULL,
      failures integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz,
      PRIMARY KEY (client_id, user_id))`);
    await q.query(`CREATE TABLE recovery_codes (
      client_id uuid NOT NULL,
      user_id text NOT NULL,
      code_hash bytea NOT NULL,
      used_at timestamptz,
      PRIMARY KEY (client_id, user_id, code_hash))`);
    // No foreign key to the set: its trigger would run once per code on the activation path (ten
    // lookups per first activation); the repository writes and deletes a set and its codes together.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE recovery_codes');
    await q.query('DROP TABLE recovery_code_sets');
  }
}
