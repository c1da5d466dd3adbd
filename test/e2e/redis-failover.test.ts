import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';
import { createEnvironment, destroyEnvironment, sentinelRedis, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { loginStoreContract, twoRedisLoginStores } from '../support/login-contract.js';
import { sleep } from '../support/otp.js';
import { freePort, ManagedRedis } from '../support/processes.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { ensureTopologyPackages, ManagedSentinel } from '../support/topologies.js';

/** Creates and activates devices for fresh users until stopped, recording every status. */
function enrolmentLoop(app: TestApp, token: string) {
  const statuses: number[] = [];
  const activated: string[] = [];
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const userId = `failover-${i}`;
      const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      statuses.push(created.status);
      if (created.status !== 201) {
        await sleep(50);
        continue;
      }
      const { authId, secret } = created.body as { authId: string; secret: string };
      const r = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret) });
      statuses.push(r.status);
      if (r.status === 200) activated.push(authId);
    }
  })();
  return {
    statuses,
    activated,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Waits until a create and an activation succeed again. */
async function recovered(app: TestApp, token: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (let i = 0; Date.now() - started < timeoutMs; i++) {
    const created = await app.call('POST', `/v1/users/recovery-${started}-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    if (created.status === 201) {
      const { authId, secret } = created.body as { authId: string; secret: string };
      const r = await app.call('POST', `/v1/users/recovery-${started}-${i}/devices/${authId}/activate`, token, { otp: app.code(secret) });
      if (r.status === 200 && (await app.fetch('/health/ready')).status === 200) return Date.now() - started;
    }
    await sleep(100);
  }
  throw new Error(`no recovery within ${timeoutMs} ms`);
}

async function inPostgres(env: TestEnvironment, ids: string[]): Promise<number> {
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM devices WHERE id = ANY($1::uuid[])', [ids]);
  await db.end();
  return Number(rows[0].n);
}

// Login requests through Sentinel: scripts and pub/sub (the long-poll) on the master it names.
const loginSentinel = new ManagedSentinel('login-contract');
after(() => loginSentinel.destroy());
loginStoreContract('Redis Sentinel', async () => {
  ensureTopologyPackages();
  await loginSentinel.start();
  return twoRedisLoginStores(sentinelRedis(loginSentinel.sentinels, loginSentinel.name));
});

describe('Redis Sentinel failover, without restarting the service', () => {
  let env: TestEnvironment;
  before(async () => {
    ensureTopologyPackages();
    env = await createEnvironment();
  });
  after(() => destroyEnvironment(env));

  for (const failure of ['SIGKILL', 'SIGSTOP'] as const) {
    it(`recovers when the master is stopped (${failure}): no 500 at any point, every activation answered 200 is in Postgres`, async () => {
      const sentinel = new ManagedSentinel(`failover-${failure.toLowerCase()}`);
      await sentinel.start();
      const app = await startApp(env, {
        REDIS_MODE: 'sentinel',
        REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_URL: '',
        RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
      });
      try {
        const { token } = await app.clientWithToken();
        const load = enrolmentLoop(app, token);
        await sleep(700);
        if (failure === 'SIGKILL') await sentinel.killMaster();
        else sentinel.pauseMaster();
        await sentinel.waitForFailover();
        const took = await recovered(app, token, 20_000);
        await load.stop();
        assert.ok(!load.statuses.includes(500), `statuses: ${[...new Set(load.statuses)].join(',')}`);
        assert.ok(
          load.statuses.every((s) => [200, 201, 404, 409, 503].includes(s)),
          [...new Set(load.statuses)].join(','),
        );
        assert.ok(load.activated.length > 0);
        assert.equal(await inPostgres(env, load.activated), load.activated.length);
        assert.ok(took < 20_000);
      } finally {
        if (failure === 'SIGSTOP') sentinel.resumeMaster();
        await app.close();
        await sentinel.destroy();
      }
    });
  }
});

describe('a standalone Redis demoted to a replica while its address moves to the new primary (a managed failover)', () => {
  let env: TestEnvironment;
  let primary: ManagedRedis;
  let other: ManagedRedis;
  let address: TcpProxy;
  let app: TestApp;
  before(async () => {
    env = await createEnvironment();
    primary = new ManagedRedis(await freePort());
    other = new ManagedRedis(await freePort());
    await Promise.all([primary.start(), other.start()]);
    // REDIS_URL names the proxy, as it would name a managed service's DNS name.
    address = new TcpProxy(primary.port);
    await address.start();
    app = await startApp(env, { REDIS_URL: `redis://127.0.0.1:${address.port}`, RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
  });
  after(async () => {
    await app.close();
    await address.stop();
    await Promise.all([primary.destroy(), other.destroy()]);
    await destroyEnvironment(env);
  });

  it('answers 503 with Retry-After and readiness DOWN while it refuses writes, then reconnects to the new primary within 3 s', async () => {
    const { token } = await app.clientWithToken();
    assert.equal((await app.fetch('/health/ready')).status, 200);
    const admin = createClient({ url: primary.url });
    await admin.connect();
    try {
      // The old primary becomes a replica of the other server; the service's open connection still reaches it.
      await admin.sendCommand(['REPLICAOF', '127.0.0.1', String(other.port)]);
      const create = await app.call('POST', '/v1/users/demoted/devices', token, { deviceType: 'TOTP', deviceName: 'Phone' });
      assert.equal(create.status, 503);
      assert.equal(create.body.code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(create.headers.get('retry-after')) >= 1);
      assert.equal((await app.fetch('/health/ready')).status, 503);
      // The address moves to the other server, now the only primary; only a new connection reaches it.
      address.redirect(other.port);
      await recovered(app, token, 3_000);
    } finally {
      await admin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      await admin.close();
    }
  });
});
