import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';
import { hashClientSecret } from '../../src/auth/client-secret.js';
import { createEnvironment, destroyEnvironment, REDIS_URL, type TestEnvironment } from '../support/harness.js';
import { codeFor, sleep } from '../support/otp.js';
import { freePort, ManagedPostgres, ManagedRedis, ServiceProcess } from '../support/processes.js';
import { ResponseCheck } from '../support/response-check.js';

/** A client inserted straight into the database (the service is a separate process here). */
async function seedClient(databaseUrl: string): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = randomUUID();
  const clientSecret = randomBytes(32).toString('base64url');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('INSERT INTO oauth_clients (id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)', [
    clientId,
    'resilience',
    hashClientSecret(clientSecret),
    ['devices:write', 'devices:read', 'otp:verify'],
  ]);
  await db.end();
  return { clientId, clientSecret };
}

class Api {
  token = '';
  /** Every answer checked against the document the service serves. */
  readonly responses: ResponseCheck;
  constructor(readonly service: ServiceProcess) {
    this.responses = new ResponseCheck(service.url);
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
    const started = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      text = await response.clone().text();
    } catch (error) {
      return { status: 0, body: { error: String(error) }, ms: Date.now() - started };
    }
    const ms = Date.now() - started;
    await this.responses.response(method, response);
    return { status: response.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {}, ms };
  }

  async login(credentials: { clientId: string; clientSecret: string }): Promise<void> {
    const response = await this.responses.fetch('/oauth/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }),
    });
    this.token = ((await response.json()) as { access_token: string }).access_token;
  }

  create(userId: string, name = `Phone ${randomUUID().slice(0, 8)}`) {
    return this.call('POST', `/v1/users/${userId}/devices`, { deviceType: 'TOTP', deviceName: name });
  }

  async activeDevice(userId: string): Promise<{ deviceId: string; secret: string }> {
    const created = await this.create(userId);
    const deviceId = created.body.authId as string;
    const secret = created.body.secret as string;
    const r = await this.call('POST', `/v1/users/${userId}/devices/${deviceId}/activate`, { otp: codeFor(secret, -30) });
    assert.equal(r.status, 200);
    return { deviceId, secret };
  }

  /** Polls until `attempt` answers `status`; returns how long that took. */
  async until(status: number, attempt: () => Promise<{ status: number }>, withinMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      if ((await attempt()).status === status) return Date.now() - started;
      if (Date.now() - started > withinMs) assert.fail(`no ${status} within ${withinMs} ms`);
      await sleep(50);
    }
  }
}

describe('resilience: Redis outages', () => {
  let env: TestEnvironment;
  let redis: ManagedRedis;
  let service: ServiceProcess;
  let api: Api;

  before(async () => {
    env = await createEnvironment();
    redis = new ManagedRedis(await freePort());
    await redis.start();
    service = new ServiceProcess(await freePort(), {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: redis.url,
      ENCRYPTION_KEY: env.encryptionKey,
      REDIS_KEY_PREFIX: 'r:',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
    await service.start();
    api = new Api(service);
    await api.login(await seedClient(env.databaseUrl));
  });
  after(async () => {
    service.kill();
    await redis.destroy();
    await destroyEnvironment(env);
    api.responses.assertNoProblems();
  });

  it('answers 503 fast while Redis is stopped, keeps verifying logins, runs nothing later, and recovers by itself', async () => {
    const pid = service.pid;
    const { deviceId, secret } = await api.activeDevice('redis-user');
    const pending = await api.create('redis-user', 'Before the outage');
    await redis.stop();

    const create = await api.create('redis-user', 'During the outage');
    const activate = await api.call('POST', `/v1/users/redis-user/devices/${String(pending.body.authId)}/activate`, {
      otp: codeFor(pending.body.secret as string),
    });
    const ready = await api.call('GET', '/health/ready');
    for (const [name, r] of [
      ['create', create],
      ['activate', activate],
      ['ready', ready],
    ] as const) {
      assert.equal(r.status, 503, name);
      assert.ok(r.ms < 1500, `${name} answered in ${r.ms} ms`);
    }
    assert.equal(create.body.code, 'SERVICE_UNAVAILABLE');
    // Verification needs only Postgres: logins keep working through a Redis outage.
    assert.equal((await api.call('POST', `/v1/users/redis-user/devices/${deviceId}/verify`, { otp: codeFor(secret) })).status, 200);

    await redis.start();
    const recovered = await api.until(201, () => api.create('redis-user', `After ${randomUUID().slice(0, 4)}`), 2000);
    assert.ok(recovered <= 2000, `recovered in ${recovered} ms`);
    assert.equal(service.pid, pid, 'same process');
    assert.ok(service.running);

    const names = ((await api.call('GET', '/v1/users/redis-user/devices')).body.devices as Array<{ deviceName: string }>).map((d) => d.deviceName);
    assert.ok(names.includes('Before the outage'), 'the registration from before the outage is kept');
    assert.ok(!names.includes('During the outage'), 'nothing issued during the outage ran later');
    const activated = await api.call('POST', `/v1/users/redis-user/devices/${String(pending.body.authId)}/activate`, {
      otp: codeFor(pending.body.secret as string),
    });
    assert.equal(activated.status, 200);
  });

  it('answers 503 within 3 s while Redis hangs (SIGSTOP) and works again after SIGCONT', async () => {
    redis.pause();
    try {
      const create = await api.create('hung-user');
      assert.equal(create.status, 503);
      assert.ok(create.ms < 3000, `answered in ${create.ms} ms`);
      const again = await api.create('hung-user');
      assert.equal(again.status, 503);
      assert.ok(again.ms < 3000, `answered in ${again.ms} ms`);
      const ready = await api.call('GET', '/health/ready');
      assert.equal(ready.status, 503);
      assert.ok(ready.ms < 3000);
    } finally {
      redis.resume();
    }
    await api.until(201, () => api.create('hung-user', `After ${randomUUID().slice(0, 4)}`), 5000);
    assert.ok(service.running);
  });
});

describe('resilience: Postgres outages', () => {
  let postgres: ManagedPostgres;
  let service: ServiceProcess;
  let api: Api;
  const prefix = `pgres:${randomBytes(4).toString('hex')}:`;

  before(async () => {
    postgres = new ManagedPostgres(await freePort());
    await postgres.start();
    service = new ServiceProcess(await freePort(), {
      DATABASE_URL: postgres.url,
      REDIS_URL: REDIS_URL,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
    await service.start();
    api = new Api(service);
    await api.login(await seedClient(postgres.url));
  });
  after(async () => {
    service.kill();
    await postgres.destroy();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await redis.del(keys);
    await redis.close();
    api.responses.assertNoProblems();
  });

  it('survives a Postgres restart in the same process: 503 meanwhile, success within 2 s after, and the interrupted activation still works', async () => {
    const pid = service.pid;
    const { deviceId, secret } = await api.activeDevice('pg-user');
    const pending = await api.create('pg-user', 'Interrupted');
    await postgres.stop();

    const activate = await api.call('POST', `/v1/users/pg-user/devices/${String(pending.body.authId)}/activate`, {
      otp: codeFor(pending.body.secret as string),
    });
    assert.equal(activate.status, 503);
    assert.ok(activate.ms < 2000, `answered in ${activate.ms} ms`);
    const verify = await api.call('POST', `/v1/users/pg-user/devices/${deviceId}/verify`, { otp: codeFor(secret) });
    assert.equal(verify.status, 503);
    assert.equal((await api.call('GET', '/health/ready')).status, 503);

    await postgres.start();
    const recovered = await api.until(200, () => api.call('GET', '/v1/users/pg-user/devices'), 2000);
    assert.ok(recovered <= 2000, `recovered in ${recovered} ms`);
    assert.equal(service.pid, pid, 'same process');
    const activated = await api.call('POST', `/v1/users/pg-user/devices/${String(pending.body.authId)}/activate`, {
      otp: codeFor(pending.body.secret as string),
    });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    assert.equal((await api.call('POST', `/v1/users/pg-user/devices/${deviceId}/verify`, { otp: codeFor(secret) })).status, 200);
  });

  it('survives Postgres ending its connections under load (pg_terminate_backend, then a restart): never a 500, never exits, recovers', async () => {
    const pid = service.pid;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const statuses = new Map<number, number>();
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const r = i % 2 === 0 ? await api.create(`pg-load-${w}-${i % 4}`) : await api.call('GET', `/v1/users/pg-load-${w}-${i % 4}/devices`);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    const load = Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
    try {
      // Connections ended in the middle of statements, between the statements of a transaction and while idle.
      for (let i = 0; i < 8; i++) {
        await sleep(250);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      }
      await admin.end();
      await postgres.stop();
      await sleep(300);
      await postgres.start();
      await sleep(1000);
    } finally {
      running = false;
      await load;
    }
    const seen = Object.fromEntries(statuses);
    assert.ok(service.running && service.pid === pid, `the service exited: ${JSON.stringify(seen)}\n${service.output.slice(-3000)}`);
    for (const status of statuses.keys()) assert.ok([200, 201, 409, 503].includes(status), `answered ${status}: ${JSON.stringify(seen)}`);
    assert.ok((statuses.get(201) ?? 0) > 0 && (statuses.get(503) ?? 0) > 0, JSON.stringify(seen));
    await api.until(200, () => api.call('GET', '/v1/users/pg-user/devices'), 2000);
  });

  it('answers 503 within 3 s while Postgres hangs (SIGSTOP) and works again after SIGCONT', async () => {
    const { deviceId, secret } = await api.activeDevice('pg-hung');
    postgres.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await api.call('POST', `/v1/users/pg-hung/devices/${deviceId}/verify`, { otp: codeFor(secret) });
        assert.equal(r.status, 503);
        assert.ok(r.ms < 3000, `answered in ${r.ms} ms`);
      }
      // A burst of requests that could queue behind stuck statements: each still answers in time
      // (the batcher's own queue timeout is covered by test/unit/batcher.test.ts).
      const burst = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 2 === 0
            ? api.call('POST', `/v1/users/pg-hung/devices/${deviceId}/verify`, { otp: codeFor(secret) })
            : api.call('GET', `/v1/users/pg-hung/devices/${deviceId}`),
        ),
      );
      assert.deepEqual([...new Set(burst.map((r) => r.status))], [503]);
      const slowest = Math.max(...burst.map((r) => r.ms));
      assert.ok(slowest < 3000, `slowest of the burst answered in ${slowest} ms`);
      const ready = await api.call('GET', '/health/ready');
      assert.equal(ready.status, 503);
      assert.ok(ready.ms < 3000);
    } finally {
      postgres.resume();
    }
    await api.until(200, () => api.call('GET', '/v1/users/pg-hung/devices'), 5000);
    assert.ok(service.running);
  });
});

describe('graceful shutdown', () => {
  let env: TestEnvironment;
  before(async () => {
    env = await createEnvironment();
  });
  after(() => destroyEnvironment(env));

  it('on SIGTERM turns readiness 503, finishes in-flight requests, closes the pools and exits 0', async () => {
    const service = new ServiceProcess(await freePort(), {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: REDIS_URL,
      ENCRYPTION_KEY: env.encryptionKey,
      REDIS_KEY_PREFIX: env.redisKeyPrefix,
      SHUTDOWN_DRAIN_SECONDS: '1',
      LOG_LEVEL: 'info',
    });
    await service.start();
    const api = new Api(service);
    await api.login(await seedClient(env.databaseUrl));
    const { deviceId } = await api.activeDevice('bye');

    const inFlight = Promise.all(Array.from({ length: 40 }, () => api.call('POST', `/v1/users/bye/devices/${deviceId}/verify`, { otp: '000000' })));
    const exit = service.terminate();
    await sleep(200);
    const ready = await api.call('GET', '/health/ready');
    const live = await api.call('GET', '/health/live');
    const stillServing = await api.call('GET', '/v1/users/bye/devices');
    const results = await inFlight;
    assert.equal(await exit, 0);

    assert.equal(ready.status, 503, 'readiness fails while draining');
    assert.equal(live.status, 200);
    assert.equal(stillServing.status, 200, 'requests are still served while draining');
    assert.ok(
      results.every((r) => r.status === 400 || r.status === 429),
      results.map((r) => r.status).join(','),
    );
    assert.match(service.output, /"msg":"stopped"/);
    api.responses.assertNoProblems();
  });
});
