import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user count of active devices. Activation increments it with a conditional upsert in the same
 * statement that inserts the device, so the per-user limit holds under concurrency in one round trip
 * (a row lock serialises a user's activations; READ COMMITTED re-checks the condition after the wait).
 */
export class UserDeviceCounts1763900200000 implements MigrationInterface {
  name = 'UserDeviceCounts1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_device_counts (
        client_id uuid NOT NULL,
        user_id text NOT NULL,
        active integer NOT NULL CHECK (active >= 0),
        PRIMARY KEY (client_id, user_id)
      )`);
    await q.query(`
      INSERT INTO user_device_counts (client_id, user_id, active)
      SELECT client_id, user_id, count(*) FROM devices GROUP BY client_id, user_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE user_device_counts');
  }
}
