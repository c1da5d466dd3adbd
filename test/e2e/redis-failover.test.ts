import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { enrolmentLoop, inPostgres, recovered } from '../support/enrolment.js';
import { createEnvironment, destroyEnvironment, sentinelRedis, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { loginStoreContract, twoRedisLoginStores } from '../support/login-contract.js';
import { sleep } from '../support/otp.js';
import { freePort, ManagedRedis } from '../support/processes.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { ensureTopologyPackages, ManagedSentinel } from '../support/topologies.js';

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

  // The SIGKILL run also has a password on the Redis servers and another on the sentinels.
  for (const [failure, passwords] of [
    ['SIGKILL', { password: 'redis-secret', sentinelPassword: 'sentinel-secret' }],
    ['SIGSTOP', {}],
  ] as const) {
    const secured = 'password' in passwords ? ', with passwords on Redis and on the sentinels' : '';
    it(`recovers when the master is stopped (${failure}${secured}): no 500 at any point, every activation answered 200 is in Postgres`, async (t) => {
      const sentinel = new ManagedSentinel(`failover-${failure.toLowerCase()}`, passwords);
      await sentinel.start();
      const app = await startApp(env, {
        REDIS_MODE: 'sentinel',
        REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_URL: '',
        ...('password' in passwords ? { REDIS_PASSWORD: passwords.password, REDIS_SENTINEL_PASSWORD: passwords.sentinelPassword } : {}),
        RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
      });
      try {
        const { token } = await app.clientWithToken();
        const load = enrolmentLoop(app, token);
        try {
          await sleep(700);
          const stoppedAt = Date.now();
          if (failure === 'SIGKILL') await sentinel.killMaster();
          else sentinel.pauseMaster();
          await sentinel.waitForFailover();
          const promoted = Date.now() - stoppedAt;
          // When the sentinels promote (down-after-milliseconds 1000, then an election) is up to them;
          // how soon the service follows is bounded.
          const followed = await recovered(app, token, 4_000);
          t.diagnostic(`new master promoted ${promoted} ms after the old one stopped; the service took writes ${followed} ms later`);
        } finally {
          await load.stop();
        }
        assert.ok(!load.statuses.includes(500), `statuses: ${[...new Set(load.statuses)].join(',')}`);
        assert.ok(
          load.statuses.every((s) => [200, 201, 404, 409, 503].includes(s)),
          [...new Set(load.statuses)].join(','),
        );
        assert.ok(load.activated.length > 0);
        assert.equal(await inPostgres(env, load.activated), load.activated.length);
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

  it('answers 503 with Retry-After and readiness DOWN while it refuses writes, then reconnects to the new primary within 3 s', async (t) => {
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
      t.diagnostic(`recovered ${await recovered(app, token, 3_000)} ms after the address moved`);
    } finally {
      await admin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      await admin.close();
    }
  });
});
