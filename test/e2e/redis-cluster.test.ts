import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisCounterStore } from '../../src/counters/redis-counter.store.js';
import { pendingKeys } from '../../src/pending/pending-keys.js';
import { RedisPendingStore } from '../../src/pending/redis-pending.store.js';
import { keySlot } from '../support/cluster-slot.js';
import { counterStoreContract } from '../support/counter-contract.js';
import {
  clusterRedis,
  connectedRedis,
  createEnvironment,
  destroyEnvironment,
  startApp,
  type TestApp,
  type TestEnvironment,
} from '../support/harness.js';
import { sleep } from '../support/otp.js';
import { loginStoreContract, twoRedisLoginStores } from '../support/login-contract.js';
import { pendingStoreContract } from '../support/pending-contract.js';
import { ensureTopologyPackages, ManagedRedisCluster, redisCli } from '../support/topologies.js';

// One 3-master cluster for this file, started once, for the contracts and the service.
const cluster = (async () => {
  ensureTopologyPackages();
  const c = new ManagedRedisCluster({ masters: 3 });
  await c.start();
  return c;
})();
after(async () => (await cluster).destroy());

const clusterNodes = async () => (await cluster).nodes.map((n) => `${n.host}:${n.port}`).join(',');

pendingStoreContract('Redis Cluster', async () => {
  const redis = await connectedRedis(clusterRedis((await cluster).nodes));
  const store = new RedisPendingStore(redis, `contract:${randomBytes(4).toString('hex')}:`, false, Date.now);
  return { store: Object.assign(store, { close: () => redis.close() }), now: Date.now, elapse: sleep };
});

counterStoreContract('Redis Cluster', async () => {
  const redis = await connectedRedis(clusterRedis((await cluster).nodes));
  return {
    store: Object.assign(new RedisCounterStore(redis, `counters:${randomBytes(4).toString('hex')}:`), { close: () => redis.close() }),
    elapse: sleep,
  };
});

loginStoreContract('Redis Cluster', async () => twoRedisLoginStores(clusterRedis((await cluster).nodes)));

describe('the service on a Redis Cluster (3 masters)', () => {
  let env: TestEnvironment;
  let app: TestApp;
  let token: string;
  before(async () => {
    env = await createEnvironment();
    app = await startApp(env, {
      REDIS_MODE: 'cluster',
      REDIS_CLUSTER_NODES: await clusterNodes(),
      REDIS_URL: '',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '15',
    });
    ({ token } = await app.clientWithToken());
  });
  after(async () => {
    await app.close();
    await destroyEnvironment(env);
  });

  it('agrees with the cluster on key slots (CLUSTER KEYSLOT), and spreads clients over the masters', async () => {
    const port = (await cluster).nodes[0].port;
    const slots = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const keys = pendingKeys('totp:', `client-${i}`, `auth-${i}`, `user-${i}`);
      const reported = Number(await redisCli(port, ['CLUSTER', 'KEYSLOT', keys.registration]));
      assert.equal(reported, keySlot(keys.registration));
      slots.add(Math.floor(reported / 5462));
    }
    assert.equal(slots.size, 3, 'clients land on every master');
  });

  it('registers, shows the QR, activates, verifies, lists and deletes; throttles and rate limits; readiness UP', async () => {
    for (let i = 0; i < 6; i++) {
      const userId = `cluster-user-${i}`;
      const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { authId, secret } = created.body as { authId: string; secret: string };
      assert.equal((await app.fetch(`/v1/users/${userId}/devices/${authId}/qr`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await app.call('GET', `/v1/users/${userId}/devices`, token)).status, 200);
      assert.equal((await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret, -30) })).status, 200);
      assert.equal((await app.call('POST', `/v1/users/${userId}/devices/${authId}/verify`, token, { otp: app.code(secret) })).status, 200);
      assert.equal((await app.call('DELETE', `/v1/users/${userId}/devices/${authId}`, token)).status, 204);
      app.clock.advance(1000);
    }
    const client = await app.createClient();
    const wrong = await Promise.all(
      Array.from({ length: 15 }, () =>
        app.fetch('/oauth/token', {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'wrong' }),
        }),
      ),
    );
    assert.deepEqual(wrong.map((r) => r.status).sort(), [...Array<number>(10).fill(401), ...Array<number>(5).fill(429)]);
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => app.call('POST', `/v1/users/burst-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' })),
    );
    assert.ok(
      burst.some((r) => r.status === 429),
      'the per-client rate limit is shared in the cluster',
    );
    assert.equal((await app.fetch('/health/ready')).status, 200);
  });

  it('refuses to start in standalone mode against a cluster node, naming REDIS_MODE=cluster', async () => {
    await assert.rejects(startApp(env, { REDIS_URL: (await cluster).url }), /REDIS_MODE=cluster/);
  });
});
