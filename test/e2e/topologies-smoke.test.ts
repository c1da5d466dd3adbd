import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient, createCluster, createSentinel } from 'redis';
import { ensureTopologyPackages, ManagedPgBouncer, ManagedRedisCluster, ManagedSentinel } from '../support/topologies.js';

/** Smoke tests of the topology managers, with plain clients only (redis, pg). */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const value = await run();
  console.log(`[topologies] ${label}: ${Date.now() - started} ms`);
  return value;
}

ensureTopologyPackages();

describe('ManagedRedisCluster', () => {
  const cluster = new ManagedRedisCluster();
  let client: ReturnType<typeof createCluster> | undefined;

  before(() => timed('redis cluster (3 masters) start', () => cluster.start()));
  after(async () => {
    await client?.close().catch(() => undefined);
    await cluster.destroy();
  });

  it('sets and gets keys spread over every master', async () => {
    client = createCluster({ rootNodes: [{ url: cluster.url }] });
    client.on('error', () => undefined);
    await client.connect();
    const keys = Array.from({ length: 200 }, (_, i) => `topology:key:${i}`);
    await Promise.all(keys.map((k, i) => client!.set(k, String(i))));
    assert.deepEqual(
      await Promise.all(keys.map((k) => client!.get(k))),
      keys.map((_, i) => String(i)),
    );
    // Each master holds a share of the keys: the writes really went across slots.
    for (const node of cluster.nodes) {
      const direct = createClient({ url: `redis://${node.host}:${node.port}` });
      await direct.connect();
      const size = await direct.dbSize();
      direct.destroy();
      assert.ok(size > 0, `node :${node.port} holds no keys`);
    }
  });
});

describe('ManagedRedisCluster with replicas', () => {
  const cluster = new ManagedRedisCluster({ masters: 3, replicasPerMaster: 1 });

  before(() => timed('redis cluster (3 masters + 3 replicas) start', () => cluster.start()));
  after(() => cluster.destroy());

  it('promotes a replica with failover(i), hangs a node with pause(i), and survives kill(i) of a master', async () => {
    const roles = await Promise.all(cluster.nodes.map((_, i) => cluster.role(i)));
    assert.equal(roles.filter((r) => r === 'master').length, 3, roles.join(','));
    const replica = roles.indexOf('slave');
    await timed('cluster failover(i) (coordinated CLUSTER FAILOVER)', () => cluster.failover(replica));
    assert.equal(await cluster.role(replica), 'master');

    const paused = roles.findIndex((r, i) => r === 'slave' && i !== replica);
    cluster.pause(paused);
    await assert.rejects(cluster.role(paused), /redis-cli/);
    cluster.resume(paused);
    assert.equal(await cluster.role(paused), 'slave');

    const client = createCluster({ rootNodes: [{ url: cluster.url }] });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const keys = Array.from({ length: 50 }, (_, i) => `topology:replicated:${i}`);
      await Promise.all(keys.map((k) => client.set(k, 'before')));
      const victim = (await Promise.all(cluster.nodes.map((_, i) => cluster.role(i)))).findIndex((r, i) => r === 'master' && i !== replica);
      const killed = Date.now();
      await cluster.kill(victim);
      // Until the cluster notices (node timeout 1 s) and promotes the victim's replica, some slots fail.
      for (;;) {
        const writes = await Promise.allSettled(
          keys.map((k) => Promise.race([client.set(k, 'after'), sleep(1_000).then(() => Promise.reject(new Error('timeout')))])),
        );
        if (writes.every((w) => w.status === 'fulfilled')) break;
        if (Date.now() - killed > 30_000) assert.fail(`writes still failing 30 s after kill(${victim})`);
        await sleep(200);
      }
      console.log(
        `[topologies] cluster kill(master): all slots writable again through the same createCluster client after ${Date.now() - killed} ms`,
      );
      assert.deepEqual(new Set(await Promise.all(keys.map((k) => client.get(k)))), new Set(['after']));
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});

describe('ManagedSentinel', () => {
  const sentinel = new ManagedSentinel('smoke');
  let client: ReturnType<typeof createSentinel> | undefined;

  before(() => timed('sentinel topology (master, replica, 3 sentinels) start', () => sentinel.start()));
  after(async () => {
    await client?.close().catch(() => undefined);
    await sentinel.destroy();
  });

  it('keeps accepting writes through createSentinel after the master is killed', async () => {
    assert.deepEqual(await sentinel.currentMaster(), { host: '127.0.0.1', port: sentinel.masterPort });
    client = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinels });
    client.on('error', () => undefined);
    await client.connect();
    await client.set('topology:before', '1');
    // WAIT: the replica has the write before the master dies, so it must survive the failover.
    await client.sendCommand(false, ['WAIT', '1', '1000']);

    const killed = Date.now();
    await sentinel.killMaster();
    const promoted = await sentinel.waitForFailover(30_000);
    const failoverMs = Date.now() - killed;
    assert.deepEqual(promoted, { host: '127.0.0.1', port: sentinel.replicaPort });
    assert.deepEqual(await sentinel.currentMaster(), promoted);

    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await Promise.race([client.set('topology:after', '2'), sleep(2_000).then(() => Promise.reject(new Error('write timed out')))]);
        break;
      } catch (error) {
        if (Date.now() - killed > 30_000) throw error;
        await sleep(100);
      }
    }
    const clientMs = Date.now() - killed;
    console.log(
      `[topologies] sentinel failover: sentinels agree on new master ${failoverMs} ms after SIGKILL; createSentinel write succeeded after ${clientMs} ms (${attempts} attempt(s))`,
    );
    assert.equal(await client.get('topology:before'), '1');
    assert.equal(await client.get('topology:after'), '2');
  });
});

describe('ManagedPgBouncer', () => {
  const bouncer = new ManagedPgBouncer({ defaultPoolSize: 3 });
  const lenient = new ManagedPgBouncer({ ignoreStartupParameters: ['statement_timeout'] });

  before(() => timed('pgbouncer start', () => bouncer.start()));
  after(async () => {
    await bouncer.destroy();
    await lenient.destroy();
  });

  async function withClient<T>(config: pg.ClientConfig, run: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client(config);
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it('answers a query through the pooler', async () => {
    const row = await withClient(
      { connectionString: bouncer.url('postgres') },
      async (c) => (await c.query<{ n: number; db: string }>('SELECT $1::int AS n, current_database() AS db', [42])).rows[0],
    );
    assert.deepEqual(row, { n: 42, db: 'postgres' });
  });

  it('refuses statement_timeout as a startup parameter (unless ignore_startup_parameters lists it)', async () => {
    const error = await withClient({ connectionString: bouncer.url('postgres'), statement_timeout: 1_000 }, () => Promise.resolve()).then(
      () => assert.fail('statement_timeout was accepted'),
      (e: unknown) => e as Error & { code?: string },
    );
    console.log(`[topologies] pgbouncer startup-parameter refusal: code=${error.code} message=${JSON.stringify(error.message)}`);
    assert.match(error.message, /unsupported startup parameter: statement_timeout/);

    await lenient.start();
    const timeout = await withClient(
      { connectionString: lenient.url('postgres'), statement_timeout: 1_000 },
      async (c) => (await c.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout,
    );
    // Accepted, but dropped: the server never sees it.
    console.log(`[topologies] with ignore_startup_parameters=statement_timeout the server reports statement_timeout=${timeout}`);
    assert.equal(timeout, '0');
  });

  it('serves 20 concurrent clients over a pool of 3 server connections with unnamed statements', async () => {
    const admin = new pg.Client({ connectionString: bouncer.adminUrl });
    await admin.connect();
    let maxServers = 0;
    let maxWaiting = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pools = (
          await admin.query<{
            database: string;
            sv_active: string;
            sv_idle: string;
            sv_used: string;
            sv_tested: string;
            sv_login: string;
            cl_waiting: string;
          }>('SHOW POOLS')
        ).rows.filter((r) => r.database === 'postgres');
        for (const p of pools) {
          maxServers = Math.max(maxServers, Number(p.sv_active) + Number(p.sv_idle) + Number(p.sv_used) + Number(p.sv_tested) + Number(p.sv_login));
          maxWaiting = Math.max(maxWaiting, Number(p.cl_waiting));
        }
        await sleep(20);
      }
    })();
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          withClient({ connectionString: bouncer.url('postgres') }, async (c) => {
            let sum = 0;
            for (let round = 0; round < 5; round++) sum += (await c.query<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.01)', [i])).rows[0].n;
            return sum;
          }),
        ),
      );
      assert.deepEqual(
        results,
        Array.from({ length: 20 }, (_, i) => i * 5),
      );
    } finally {
      sampling = false;
      await sampler;
      await admin.end();
    }
    console.log(`[topologies] pgbouncer under 20 clients: max server connections ${maxServers}, max waiting clients ${maxWaiting}`);
    assert.ok(maxServers <= 3, `pool of 3 used ${maxServers} server connections`);
    assert.ok(maxWaiting > 0, 'clients never queued for the pool');
  });

  it('breaks NAMED prepared statements under concurrency (42P05 / 26000)', async () => {
    const failures = new Map<string, { count: number; message: string }>();
    let ok = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withClient({ connectionString: bouncer.url('postgres') }, async (c) => {
          for (let round = 0; round < 5; round++) {
            try {
              await c.query({ name: 'x', text: 'SELECT $1::int AS n, pg_sleep(0.005)', values: [i] });
              ok++;
            } catch (error) {
              const { code = 'none', message } = error as Error & { code?: string };
              const seen = failures.get(code) ?? { count: 0, message };
              seen.count++;
              failures.set(code, seen);
            }
          }
        }),
      ),
    );
    console.log(
      `[topologies] named prepared statement through transaction pooling: ${ok} ok, failures ${JSON.stringify(Object.fromEntries(failures))}`,
    );
    assert.ok(failures.has('42P05') || failures.has('26000'), `expected 42P05 or 26000, got ${JSON.stringify(Object.fromEntries(failures))}`);
  });

  it('sends a prepared statement to a server connection that never saw it (26000)', async () => {
    // A pooler of its own: its pool starts empty, so which server connection serves what is certain.
    const fresh = new ManagedPgBouncer({ defaultPoolSize: 3 });
    try {
      await fresh.start();
      const a = new pg.Client({ connectionString: fresh.url('postgres') });
      const b = new pg.Client({ connectionString: fresh.url('postgres') });
      await a.connect();
      await b.connect();
      try {
        await a.query({ name: 'y', text: 'SELECT $1::int AS n', values: [1] }); // prepared on the only server connection, S1
        await b.query('BEGIN'); // b's transaction now holds S1
        await b.query('SELECT 1');
        const error = await a.query({ name: 'y', text: 'SELECT $1::int AS n', values: [2] }).then(
          () => assert.fail('the statement ran on a second server connection'),
          (e: unknown) => e as Error & { code?: string },
        ); // pg sends only Bind/Execute for y, and PgBouncer hands a the new S2
        console.log(
          `[topologies] named prepared statement on another server connection: code=${error.code} message=${JSON.stringify(error.message)}`,
        );
        assert.equal(error.code, '26000');
        await b.query('COMMIT');
      } finally {
        await a.end().catch(() => undefined);
        await b.end().catch(() => undefined);
      }
    } finally {
      await fresh.destroy();
    }
  });
});
