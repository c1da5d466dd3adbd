import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { hashClientSecret } from '../../src/auth/client-secret.js';
import { MIGRATIONS } from '../../src/migrations/index.js';
import { createEnvironment, destroyEnvironment, REDIS_URL, startApp, type TestEnvironment } from '../support/harness.js';
import { codeFor } from '../support/otp.js';
import { freePort, ServiceProcess } from '../support/processes.js';
import { ResponseCheck } from '../support/response-check.js';

describe('start-up', () => {
  let env: TestEnvironment;
  before(async () => {
    env = await createEnvironment();
  });
  after(() => destroyEnvironment(env));

  it('lets three replicas start at once on an empty database: migrations run once, one signing key', async () => {
    const apps = await Promise.all([startApp(env), startApp(env), startApp(env)]);
    try {
      const db = new pg.Client({ connectionString: env.databaseUrl });
      await db.connect();
      const migrations = await db.query('SELECT name FROM migrations ORDER BY id');
      const keys = await db.query('SELECT kid FROM signing_keys');
      await db.end();
      assert.deepEqual(
        migrations.rows.map((r: { name: string }) => r.name),
        MIGRATIONS.map((m) => m.name),
      );
      assert.equal(keys.rowCount, 1);
      const credentials = await apps[0].createClient();
      const token = await apps[1].token(credentials);
      assert.equal((await apps[2].call('GET', '/v1/users/ada/devices', token)).status, 200);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });
});

describe('logs', () => {
  let env: TestEnvironment;
  let service: ServiceProcess;
  before(async () => {
    env = await createEnvironment();
    service = new ServiceProcess(await freePort(), {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL,
      ENCRYPTION_KEY: env.encryptionKey,
      REDIS_KEY_PREFIX: env.redisKeyPrefix,
      LOG_LEVEL: 'debug',
    });
    await service.start();
  });
  after(async () => {
    service.kill();
    await destroyEnvironment(env);
  });

  it('are JSON lines with a request id, and never contain a secret, an OTP or a token', async () => {
    const clientId = randomUUID();
    const clientSecret = randomBytes(32).toString('base64url');
    const db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    await db.query('INSERT INTO oauth_clients (id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)', [
      clientId,
      'logs',
      hashClientSecret(clientSecret),
      ['devices:write', 'devices:read', 'otp:verify'],
    ]);
    await db.end();
    const responses = new ResponseCheck(service.url);
    const post = (path: string, body: unknown, token?: string) =>
      responses.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
    const token = (
      (await (await post('/oauth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })).json()) as {
        access_token: string;
      }
    ).access_token;
    await post('/oauth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong-secret-value' });
    const created = (await (await post('/v1/users/ada/devices', { deviceType: 'TOTP', deviceName: 'Phone' }, token)).json()) as {
      authId: string;
      secret: string;
    };
    const wrong = codeFor(created.secret, 300);
    await post(`/v1/users/ada/devices/${created.authId}/activate`, { otp: wrong }, token);
    const activation = codeFor(created.secret, -30);
    await post(`/v1/users/ada/devices/${created.authId}/activate`, { otp: activation }, token);
    const login = codeFor(created.secret);
    await post(`/v1/users/ada/devices/${created.authId}/verify`, { otp: login }, token);
    await post(`/v1/users/ada/devices/${created.authId}/verify`, { otp: login }, token);
    await new Promise((r) => setTimeout(r, 200));

    const lines = service.output.split('\n').filter((l) => l.trim() !== '');
    const requests = lines.filter((l) => l.includes('"msg":"request"'));
    assert.ok(requests.length >= 7, `${requests.length} request lines`);
    for (const line of requests) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof entry.reqId, 'string');
      assert.equal(typeof entry.time, 'string');
    }
    assert.ok(
      lines.some((l) => l.includes('OTP replay refused')),
      'the replay is logged',
    );
    for (const secretText of [clientSecret, 'wrong-secret-value', token, token.split('.')[2], created.secret, wrong, activation, login]) {
      assert.ok(!service.output.includes(secretText), `a secret, token or OTP appears in the logs: ${secretText.slice(0, 6)}…`);
    }
    responses.assertNoProblems();
  });
});
