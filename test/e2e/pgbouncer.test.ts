import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/common/logger.js';
import { DependencyUnavailableError } from '../../src/common/domain-error.js';
import { Database } from '../../src/database/database.js';
import { runMigrations } from '../../src/database/migrations.js';
import { createEnvironment, destroyEnvironment, PG_ADMIN_URL, REDIS_URL, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { ensureTopologyPackages, ManagedPgBouncer } from '../support/topologies.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'clients.cli.js');

describe('through PgBouncer in transaction mode (Debian 1.18: no prepared statements; pool 3, DB_POOL_SIZE 10)', () => {
  let env: TestEnvironment;
  let bouncer: ManagedPgBouncer;
  let app: TestApp;
  let token: string;
  let db: pg.Client;
  before(async () => {
    ensureTopologyPackages();
    env = await createEnvironment();
    bouncer = new ManagedPgBouncer({ poolMode: 'transaction', defaultPoolSize: 3 });
    await bouncer.start();
    app = await startApp(env, {
      DATABASE_URL: bouncer.url(env.databaseName),
      DATABASE_PREPARED_STATEMENTS: 'false',
      DB_POOL_SIZE: '10',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
    ({ token } = await app.clientWithToken());
    db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await app.close();
    await bouncer.destroy();
    await destroyEnvironment(env);
  });

  async function enrol(userId: string) {
    const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { authId, secret } = created.body as { authId: string; secret: string };
    assert.equal((await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret, -30) })).status, 200);
    return { deviceId: authId, secret };
  }

  it('runs the whole flow', async () => {
    const { deviceId, secret } = await enrol('pooled');
    assert.equal((await app.call('POST', `/v1/users/pooled/devices/${deviceId}/verify`, token, { otp: app.code(secret) })).status, 200);
    assert.equal((await app.call('PATCH', `/v1/users/pooled/devices/${deviceId}`, token, { deviceName: 'Work phone' })).status, 200);
    assert.equal((await app.call('GET', '/v1/users/pooled/devices', token)).status, 200);
    assert.equal((await app.call('GET', '/v1/users/pooled/events', token)).status, 200);
    assert.equal((await app.call('DELETE', `/v1/users/pooled/devices/${deviceId}`, token)).status, 204);
    assert.equal((await app.fetch('/health/ready')).status, 200);
  });

  it('serves 10 s of mixed load from 20 connections without a single 5xx', async (t) => {
    const devices = await Promise.all(Array.from({ length: 10 }, (_, i) => enrol(`load-${i}`)));
    const statuses = new Map<number, number>();
    const until = Date.now() + 10_000;
    let n = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, worker) => {
        while (Date.now() < until) {
          const i = n++;
          const device = devices[i % devices.length];
          const user = `load-${i % devices.length}`;
          const r =
            i % 4 === 0
              ? await app.call('POST', `/v1/users/${user}/devices/${device.deviceId}/verify`, token, { otp: app.wrongCode(device.secret) })
              : i % 4 === 1
                ? await app.call('GET', `/v1/users/${user}/devices`, token)
                : i % 4 === 2
                  ? await app.call('POST', `/v1/users/mixed-${worker}-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' })
                  : await app.call('GET', `/v1/users/${user}/events?limit=5`, token);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}, ${n} requests`);
    assert.ok(
      [...statuses.keys()].every((s) => s < 500),
      JSON.stringify(Object.fromEntries(statuses)),
    );
    assert.ok(n > 500);
  });

  it('cancels a statement that runs past the deadline (503) through the pooler, leaving nothing running', async () => {
    const { deviceId, secret } = await enrol('slow');
    const blocker = new pg.Client({ connectionString: env.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM devices WHERE id = $1 FOR UPDATE', [deviceId]);
    try {
      const started = Date.now();
      const r = await app.call('POST', `/v1/users/slow/devices/${deviceId}/verify`, token, { otp: app.code(secret) });
      assert.equal(r.status, 503);
      assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
      const waiting = await db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      assert.equal(waiting.rowCount, 0, 'the waiting statement was cancelled');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  });

  it('answers a prepared statement the pooled server connection lacks or already has (42P05, 26000) as an outage (503), never an error of its own', async (t) => {
    // DATABASE_PREPARED_STATEMENTS=true against this pooler: a name prepared on one server connection
    // is used (or prepared again) on another.
    const pooled = new Database({
      url: bouncer.url(env.databaseName),
      poolSize: 10,
      timeoutMs: 2000,
      preparedStatements: true,
      logger: createLogger('silent'),
    });
    const outcomes = new Map<string, number>();
    try {
      await Promise.all(
        Array.from({ length: 20 }, async (_, worker) => {
          for (let i = 0; i < 20; i++) {
            const outcome = await pooled.query(`SELECT $1::int + ${i % 5} AS n`, [worker]).then(
              () => 'ok',
              (error: unknown) =>
                error instanceof DependencyUnavailableError ? `503 ${(error.cause as { code?: string }).code}` : `other ${String(error)}`,
            );
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }
        }),
      );
    } finally {
      await pooled.close();
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(outcomes)));
    const failures = [...outcomes.keys()].filter((o) => o !== 'ok');
    assert.ok(failures.length > 0, 'the pooler mixed up prepared statements');
    assert.deepEqual(
      failures.filter((o) => o !== '503 42P05' && o !== '503 26000'),
      [],
    );
  });

  it('lets three migrators started together through the pooler all finish, leaving no advisory lock', async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const name = `${env.databaseName}_mig`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const results = await Promise.all([0, 1, 2].map(() => runMigrations(bouncer.url(name))));
      assert.equal(results.filter((applied) => applied.length > 0).length, 1, 'one migrated, the others found nothing to do');
      const locks = await admin.query(
        `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1`,
        [name],
      );
      assert.equal(locks.rowCount, 0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('lets the operator CLI work through the pooler, and say what it died of when it cannot', () => {
    const env2 = { PATH: process.env.PATH, REDIS_URL, ENCRYPTION_KEY: env.encryptionKey, DATABASE_PREPARED_STATEMENTS: 'false' };
    const ok = spawnSync(process.execPath, [CLI, 'create', '--name', 'Pooled', '--scopes', 'otp:verify'], {
      env: { ...env2, DATABASE_URL: bouncer.url(env.databaseName) },
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok((JSON.parse(ok.stdout) as { clientId: string }).clientId);
    const failed = spawnSync(process.execPath, [CLI, 'list'], { env: { ...env2, DATABASE_URL: bouncer.url('no_such_database') }, encoding: 'utf8' });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /\w+.*(no_such_database|does not exist|unavailable)/i);
  });
});
