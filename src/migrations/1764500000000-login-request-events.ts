import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login by QR code (API.md §11) keeps its requests in Redis; the audit trail records them. These
 * indexes let the expiry sweep find the requests that ended without a decision (LOGIN_EXPIRED).
 */
export class LoginRequestEvents1764500000000 implements MigrationInterface {
  name = 'LoginRequestEvents1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_events_created_login_idx ON audit_events (created_at) WHERE type = 'LOGIN_REQUESTED'`);
    await q.query(`CREATE INDEX audit_events_login_request_idx ON audit_events ((detail->>'loginRequestId')) WHERE detail ? 'loginRequestId'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX audit_events_login_request_idx');
    await q.query('DROP INDEX audit_events_created_login_idx');
  }
}
