import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { ClientsRepository } from '../../src/auth/clients.repository.js';
import { ClientsService } from '../../src/auth/clients.service.js';
import { createEnvironment, destroyEnvironment, REDIS_URL, startApp, startTestApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { freePort, ManagedRedis } from '../support/processes.js';

type App = TestApp & { teardown(): Promise<void> };

function tokenRequest(app: TestApp, clientId: string, clientSecret: string, forwardedFor?: string) {
  return app.fetch('/oauth/token', {
    method: 'POST',
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
}

async function redisKeys(pattern: string): Promise<number> {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  let n = 0;
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 1000 })) n += keys.length;
  await redis.close();
  return n;
}

describe('client authentication throttle (issue 10)', () => {
  let a: App;
  let b: TestApp;
  before(async () => {
    // A generous deadline: these tests are about the 401s and 429s, and a burst's client lookups
    // queue for the pool on a loaded machine (a 503 after the default second).
    a = await startTestApp({ TRUST_PROXY: '1', DEPENDENCY_TIMEOUT_MS: '3000' });
    b = await startApp(a.env, { TRUST_PROXY: '127.0.0.1', DEPENDENCY_TIMEOUT_MS: '3000' });
  });
  after(async () => {
    await b.close();
    await a.teardown();
  });

  it('evaluates exactly 10 of 200 parallel wrong secrets from one address (two replicas): the rest get 429', async () => {
    const client = await a.createClient();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => tokenRequest(i % 2 === 0 ? a : b, client.clientId, `wrong-${i}`, '203.0.113.9').then((r) => r.status)),
    );
    assert.equal(results.filter((s) => s === 401).length, 10, results.join(','));
    assert.equal(results.filter((s) => s === 429).length, 190);
  });

  it('always accepts the right secret (issue 10 §7): 50 at once among 20 wrong ones, and after the address is at the limit', async () => {
    // Callers behind one NAT or proxy share an address: another caller's wrong secrets there must
    // not lock the legitimate client out. Only wrong secrets are counted, and only they are refused.
    const client = await a.createClient();
    const requests = [
      ...Array.from({ length: 50 }, (_, i) => tokenRequest(i % 2 === 0 ? a : b, client.clientId, client.clientSecret, '203.0.113.20')),
      ...Array.from({ length: 20 }, (_, i) => tokenRequest(i % 2 === 0 ? a : b, client.clientId, `wrong-${i}`, '203.0.113.20')),
    ];
    const statuses = await Promise.all(requests.map((r) => r.then((x) => x.status)));
    assert.deepEqual(statuses.slice(0, 50), Array<number>(50).fill(200), statuses.join(','));
    const wrong = statuses.slice(50);
    assert.equal(wrong.filter((s) => s === 401).length, 10, wrong.join(','));
    assert.equal(wrong.filter((s) => s === 429).length, 10, wrong.join(','));
    // The address is at the limit: its wrong secrets keep getting 429, its right secret a token.
    for (const app of [a, b]) {
      assert.equal((await tokenRequest(app, client.clientId, 'wrong-again', '203.0.113.20')).status, 429);
      assert.equal((await tokenRequest(app, client.clientId, client.clientSecret, '203.0.113.20')).status, 200);
    }
  });

  it('keeps no per-id state for unknown client ids: a flood of new ids adds a bounded number of keys', async () => {
    const before = await redisKeys(`${a.env.redisKeyPrefix}*`);
    for (let burst = 0; burst < 6; burst++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          tokenRequest(a, i % 2 === 0 ? randomUUID() : `nobody-${burst}-${i}-${randomUUID()}`, 'x'.repeat(43), '198.51.100.7'),
        ),
      );
    }
    const added = (await redisKeys(`${a.env.redisKeyPrefix}*`)) - before;
    assert.ok(added <= 2, `${added} keys for 300 unknown client ids`);
  });

  it('looks no invented id up alone once its address has used up the unknown-id count, and still lets a real client in', async () => {
    // Observed, not replaced: the repository still runs each query.
    const repository = a.app.get(ClientsRepository);
    const findById = repository.findById.bind(repository);
    const existing = repository.existing.bind(repository);
    let lookups = 0;
    let existenceStatements = 0;
    repository.findById = (id) => {
      lookups++;
      return findById(id);
    };
    repository.existing = (ids) => {
      existenceStatements++;
      return existing(ids);
    };
    try {
      for (let i = 0; i < 10; i++) assert.equal((await tokenRequest(a, randomUUID(), 'x'.repeat(43), '198.51.100.9')).status, 401);
      lookups = 0;
      const flood = await Promise.all(Array.from({ length: 100 }, () => tokenRequest(a, randomUUID(), 'x'.repeat(43), '198.51.100.9')));
      assert.deepEqual(
        flood.map((r) => r.status),
        flood.map(() => 429),
      );
      assert.equal(lookups, 0, `${lookups} lookups for 100 invented ids (${existenceStatements} existence statements)`);
      // A client this replica has never seen, behind the same address, still gets its token.
      const client = await a.createClient();
      assert.equal((await tokenRequest(a, client.clientId, client.clientSecret, '198.51.100.9')).status, 200);
    } finally {
      repository.findById = findById;
      repository.existing = existing;
    }
  });

  it('takes the right-most untrusted X-Forwarded-For address: a spoofed left-most entry neither escapes nor frames anyone', async () => {
    const victim = await a.createClient();
    // The load balancer appends the address it saw (the attacker's) to whatever the caller sent.
    // Replica a trusts one hop, replica b the proxy's address; both find the attacker.
    for (const [app, attacker] of [
      [a, '10.0.0.66'],
      [b, '10.0.0.67'],
    ] as const) {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await tokenRequest(app, victim.clientId, 'guess', `10.9.${i}.1, 10.0.0.77, ${attacker}`)).status);
      assert.equal(statuses.filter((s) => s === 401).length, 10, statuses.join(','));
      assert.ok(statuses.slice(10).every((s) => s === 429));
    }
    // The victim (10.0.0.77) still gets its token at once.
    const own = await tokenRequest(a, victim.clientId, victim.clientSecret, '10.0.0.77');
    assert.equal(own.status, 200);
  });
});

describe('secret rotation revokes issued tokens (issue 10)', () => {
  let app: App;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.teardown());

  it('stops accepting tokens issued before a rotation, unless asked to keep them', async () => {
    const clients = app.app.get(ClientsService);
    const revoked = await app.clientWithToken('devices:read');
    const kept = await app.clientWithToken('devices:read');
    assert.equal((await app.call('GET', '/v1/users/ada/devices', revoked.token)).status, 200);
    const rotated = await clients.rotateSecret(revoked.clientId);
    await clients.rotateSecret(kept.clientId, { keepTokens: true });
    app.clock.advance(1100);
    const refused = await app.call('GET', '/v1/users/ada/devices', revoked.token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'INVALID_TOKEN');
    assert.equal((await app.call('GET', '/v1/users/ada/devices', kept.token)).status, 200);
    const fresh = await app.token({ clientId: revoked.clientId, clientSecret: rotated.clientSecret });
    assert.equal((await app.call('GET', '/v1/users/ada/devices', fresh)).status, 200);
  });
});

describe('readiness when Redis refuses writes (issue 10)', () => {
  let env: TestEnvironment;
  let redis: ManagedRedis;
  let app: TestApp;
  before(async () => {
    env = await createEnvironment();
    redis = new ManagedRedis(await freePort());
    await redis.start();
    app = await startApp(env, { REDIS_URL: redis.url });
  });
  after(async () => {
    await app.close();
    await redis.destroy();
    await destroyEnvironment(env);
  });

  it('is DOWN while Redis is out of memory, and UP again after', async () => {
    assert.equal((await app.fetch('/health/ready')).status, 200);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.configSet('maxmemory', '1');
    try {
      const down = await app.fetch('/health/ready');
      assert.equal(down.status, 503);
    } finally {
      await admin.configSet('maxmemory', '0');
      await admin.close();
    }
    assert.equal((await app.fetch('/health/ready')).status, 200);
  });
});
