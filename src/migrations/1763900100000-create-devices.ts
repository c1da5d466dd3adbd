import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDevices1763900100000 implements MigrationInterface {
  name = 'CreateDevices1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE devices (
        id uuid PRIMARY KEY,
        client_id uuid NOT NULL REFERENCES oauth_clients (id),
        user_id text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 128),
        device_type text NOT NULL CHECK (device_type IN ('TOTP')),
        device_name text NOT NULL CHECK (length(device_name) BETWEEN 1 AND 64),
        sealed_secret text NOT NULL,
        key_id text NOT NULL,
        algorithm text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
        digits smallint NOT NULL CHECK (digits IN (6, 8)),
        period smallint NOT NULL CHECK (period > 0),
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE')),
        last_used_step bigint,
        failure_count integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_at timestamptz NOT NULL,
        activated_at timestamptz NOT NULL,
        last_used_at timestamptz
      )`);
    // Device names are unique per user among active devices, ignoring case.
    await q.query(`CREATE UNIQUE INDEX devices_active_name_uq ON devices (client_id, user_id, lower(device_name)) WHERE status = 'ACTIVE'`);
    await q.query('CREATE INDEX devices_owner_idx ON devices (client_id, user_id, created_at DESC)');
    // Keys can be rotated: this finds the devices still sealed under an old key.
    await q.query('CREATE INDEX devices_key_id_idx ON devices (key_id)');
    await q.query(`
      CREATE TABLE audit_events (
        seq bigserial PRIMARY KEY,
        -- Random UUIDv4: no unique index (one less random-order B-tree insert per event).
        event_id uuid NOT NULL,
        client_id uuid NOT NULL,
        user_id text NOT NULL,
        device_id uuid,
        type text NOT NULL,
        request_id text,
        detail jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX audit_events_user_idx ON audit_events (client_id, user_id, seq DESC)');
    await q.query('CREATE INDEX audit_events_device_idx ON audit_events (device_id, type)');
    await q.query(`CREATE INDEX audit_events_created_reg_idx ON audit_events (created_at) WHERE type = 'REGISTRATION_CREATED'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_events');
    await q.query('DROP TABLE devices');
  }
}
