import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pendingKeys } from '../../src/pending/pending-keys.js';
import { keySlot } from '../support/cluster-slot.js';
import { enrolmentLoop, inPostgres, recovered } from '../support/enrolment.js';
import { createEnvironment, destroyEnvironment, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { sleep } from '../support/otp.js';
import { ensureTopologyPackages, ManagedRedisCluster } from '../support/topologies.js';

describe('the service on a Redis Cluster that loses a master (3 masters, 1 replica each)', () => {
  let env: TestEnvironment;
  let replicated: ManagedRedisCluster;
  let app: TestApp;
  before(async () => {
    ensureTopologyPackages();
    replicated = new ManagedRedisCluster({ masters: 3, replicasPerMaster: 1 });
    await replicated.start();
    env = await createEnvironment();
    app = await startApp(env, {
      REDIS_MODE: 'cluster',
      REDIS_CLUSTER_NODES: replicated.nodes.map((n) => `${n.host}:${n.port}`).join(','),
      REDIS_URL: '',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
  });
  after(async () => {
    await app.close();
    await replicated.destroy();
    await destroyEnvironment(env);
  });

  it("answers only 503 while the client's master is down, and recovers by itself once its replica takes over", async (t) => {
    const { token, clientId } = await app.clientWithToken();
    const slot = keySlot(pendingKeys(env.redisKeyPrefix, clientId, 'any').registration);
    const load = enrolmentLoop(app, token);
    try {
      await sleep(700);
      const stoppedAt = Date.now();
      const victim = await replicated.masterOf(slot);
      await replicated.kill(victim);
      await replicated.waitForTakeover(slot, victim);
      const promoted = Date.now() - stoppedAt;
      // When the replica takes over (cluster-node-timeout 1000, then an election) is up to the
      // cluster; how soon the service follows is bounded.
      const followed = await recovered(app, token, 4_000);
      t.diagnostic(`the replica took over ${promoted} ms after the master was killed; the service took writes ${followed} ms later`);
    } finally {
      await load.stop();
    }
    t.diagnostic(`statuses ${JSON.stringify(count(load.statuses))}`);
    assert.ok(!load.statuses.includes(500), JSON.stringify(count(load.statuses)));
    assert.ok(
      load.statuses.every((s) => [200, 201, 404, 409, 503].includes(s)),
      JSON.stringify(count(load.statuses)),
    );
    assert.ok(load.statuses.includes(503), 'the outage was seen');
    assert.ok(load.activated.length > 0);
    assert.equal(await inPostgres(env, load.activated), load.activated.length);
  });
});

const count = (statuses: number[]) => Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]));
