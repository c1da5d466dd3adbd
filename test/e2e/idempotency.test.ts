import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { REDIS_URL, startApp, startAppBehindPostgresProxy, startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };
let seq = 0;
const newUser = () => `idem-${process.pid}-${++seq}`;

describe('Idempotency-Key on every POST under /v1 (IETF httpapi draft), on two replicas', () => {
  let a: App;
  let b: TestApp;
  let token: string;

  before(async () => {
    a = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    b = await startApp(a.env, { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' }, { clock: a.clock });
    ({ token } = await a.clientWithToken());
  });
  after(async () => {
    await b.close();
    await a.teardown();
  });

  const create = (app: TestApp, userId: string, key: string | undefined, deviceName = 'Phone', bearer = token) =>
    app.call('POST', `/v1/users/${userId}/devices`, bearer, { deviceType: 'TOTP', deviceName }, key === undefined ? {} : { 'idempotency-key': key });
  const pendingCount = async (userId: string) => {
    const r = await a.call('GET', `/v1/users/${userId}/devices`, token);
    return (r.body.devices as Array<{ status: string }>).filter((d) => d.status === 'PENDING_ACTIVATION').length;
  };

  it('replays the first answer to a retry with the same key and body, from the other replica, creating nothing new', async () => {
    const userId = newUser();
    const key = randomUUID();
    const first = await create(a, userId, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const retry = await create(b, userId, `"${key}"`); // the Structured Field form is the same key
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body, first.body, 'the same registration, the same secret');
    assert.equal(retry.headers.get('cache-control'), 'no-store');
    assert.notEqual(retry.headers.get('x-request-id'), first.headers.get('x-request-id'));
    assert.equal(await pendingCount(userId), 1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body or another route', async () => {
    const userId = newUser();
    const key = randomUUID();
    assert.equal((await create(a, userId, key)).status, 201);
    const otherBody = await create(b, userId, key, 'Tablet');
    assert.deepEqual([otherBody.status, otherBody.body.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
    const otherRoute = await create(a, `${userId}-b`, key);
    assert.equal(otherRoute.status, 422);
    assert.equal(await pendingCount(userId), 1);
  });

  it('runs exactly one of 30 concurrent requests with one key (two replicas); the others replay it or get 409', async () => {
    const userId = newUser();
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => create(i % 2 ? a : b, userId, key)));
    const created = results.filter((r) => r.status === 201);
    const busy = results.filter((r) => r.status === 409);
    assert.equal(created.length + busy.length, 30, results.map((r) => r.status).join(','));
    assert.ok(created.length >= 1);
    assert.ok(created.every((r) => r.body.authId === created[0]?.body.authId));
    assert.ok(busy.every((r) => r.body.code === 'IDEMPOTENCY_KEY_IN_USE' && Number(r.headers.get('retry-after')) >= 1));
    assert.equal(await pendingCount(userId), 1);
    const later = await create(a, userId, key);
    assert.deepEqual([later.status, later.body.authId, later.headers.get('idempotent-replayed')], [201, created[0]?.body.authId, 'true']);
  });

  it('keeps an error answer too: a retried wrong activation code is not a second attempt', async () => {
    const userId = newUser();
    const reg = await create(a, userId, undefined);
    const authId = reg.body.authId as string;
    const key = randomUUID();
    const wrong = a.wrongCode(reg.body.secret as string);
    const activate = (app: TestApp) =>
      app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: wrong }, { 'idempotency-key': key });
    const first = await activate(a);
    const again = await activate(b);
    assert.deepEqual([first.status, again.status], [400, 400]);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.remainingAttempts, first.body.remainingAttempts);
    const next = await a.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: wrong });
    assert.equal(next.body.remainingAttempts, (first.body.remainingAttempts as number) - 1, 'only one attempt was counted before');
  });

  it('keeps keys per client: another client with the same key runs its own request', async () => {
    const userId = newUser();
    const key = randomUUID();
    const other = await a.clientWithToken();
    const mine = await create(a, userId, key);
    const theirs = await create(b, userId, key, 'Phone', other.token);
    assert.deepEqual([mine.status, theirs.status], [201, 201]);
    assert.notEqual(theirs.body.authId, mine.body.authId);
    assert.equal(theirs.headers.get('idempotent-replayed'), null);
  });

  it('runs every request without a key, refuses a malformed key with 400, and takes keys on every POST under /v1', async () => {
    const userId = newUser();
    assert.equal((await create(a, userId, undefined)).status, 201);
    assert.equal((await create(a, userId, undefined, 'Second')).status, 201);
    assert.equal(await pendingCount(userId), 2);
    // A body that does not validate is refused the same every time: nothing is kept, the key stays free.
    const invalidKey = randomUUID();
    const invalid = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP' }, { 'idempotency-key': invalidKey });
    assert.equal(invalid.status, 400);
    const again = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP' }, { 'idempotency-key': invalidKey });
    assert.deepEqual([again.status, again.headers.get('idempotent-replayed')], [400, null]);
    for (const bad of ['x'.repeat(256), 'a\tb', '', '"unterminated', 'é']) {
      const r = await create(a, userId, bad, 'Third');
      assert.deepEqual([r.status, r.body.code], [400, 'VALIDATION_FAILED'], JSON.stringify(bad));
    }
    const key = randomUUID();
    const regenerate = () => a.call('POST', `/v1/users/${userId}/recovery-codes`, token, undefined, { 'idempotency-key': key });
    const codes = await regenerate();
    const replay = await regenerate();
    assert.deepEqual([codes.status, replay.status, replay.headers.get('idempotent-replayed')], [201, 201, 'true']);
    assert.deepEqual(replay.body.recoveryCodes, codes.body.recoveryCodes, 'the same set, not a second one');
  });

  it('stores the answer only sealed: a secret it carries is not in Redis in clear, nor is the key', async () => {
    const userId = newUser();
    const key = `visible-key-${randomUUID()}`;
    const created = await create(a, userId, key);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      let found = 0;
      for await (const keys of redis.scanIterator({ MATCH: `${a.env.redisKeyPrefix}idem:*`, COUNT: 1000 })) {
        for (const k of keys) {
          found++;
          assert.ok(!k.includes(key));
          const stored = JSON.stringify(await redis.hGetAll(k));
          assert.ok(!stored.includes(created.body.secret as string), 'the secret is not stored in clear');
          assert.ok(!stored.includes(key));
        }
      }
      assert.ok(found > 0);
      // It carries a secret (Cache-Control: no-store): kept 10 minutes, not 24 h.
      const entry = `${a.env.redisKeyPrefix}idem:`;
      let ttl = 0;
      for await (const keys of redis.scanIterator({ MATCH: `${entry}*{${createHash('sha256').update(key).digest('hex')}}`, COUNT: 1000 })) {
        for (const k of keys) ttl = await redis.pTTL(k);
      }
      assert.ok(ttl > 0 && ttl <= 600_000, `kept ${ttl} ms`);
    } finally {
      await redis.close();
    }
  });
});

describe('Idempotency-Key quota per client', () => {
  it('starts at most IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR new keys; replays and requests without a key go on', async () => {
    const app = await startTestApp({ IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR: '3', RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    try {
      const { token } = await app.clientWithToken();
      const create = (key: string | undefined, name: string) =>
        app.call(
          'POST',
          '/v1/users/quota/devices',
          token,
          { deviceType: 'TOTP', deviceName: name },
          key === undefined ? {} : { 'idempotency-key': key },
        );
      const keys = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const statuses = [];
      for (const [i, key] of keys.entries()) statuses.push((await create(key, `D${i}`)).status);
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      const refused = await create(keys[3], 'D3');
      assert.deepEqual([refused.body.code, Number(refused.headers.get('retry-after')) > 0], ['RATE_LIMITED', true]);
      assert.equal((await create(keys[0], 'D0')).headers.get('idempotent-replayed'), 'true');
      assert.equal((await create(undefined, 'Plain')).status, 201);
    } finally {
      await app.teardown();
    }
  });
});

describe('Idempotency-Key quota on a route with no other 429', () => {
  it('answers the documented 429 RATE_LIMITED with Retry-After on recovery-codes regenerate once the quota is spent', async () => {
    const app = await startTestApp({ IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR: '2', RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    try {
      const { token } = await app.clientWithToken();
      const regenerate = () => app.call('POST', '/v1/users/quota-codes/recovery-codes', token, undefined, { 'idempotency-key': randomUUID() });
      assert.deepEqual([(await regenerate()).status, (await regenerate()).status], [201, 201]);
      // The harness checks this answer against the served document: a 429 it did not declare would fail here.
      const refused = await regenerate();
      assert.deepEqual([refused.status, refused.body.code], [429, 'RATE_LIMITED']);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      const doc = (await (await app.fetch('/docs-json')).json()) as {
        paths: Record<string, { post: { responses: Record<string, { content: { 'application/json': { schema: { allOf: unknown[] } } } }> } }>;
      };
      const [, own] = doc.paths['/v1/users/{userId}/recovery-codes'].post.responses['429'].content['application/json'].schema.allOf as [
        unknown,
        { properties: { code: { enum: string[] } } },
      ];
      assert.deepEqual(own.properties.code.enum, ['RATE_LIMITED']);
    } finally {
      await app.teardown();
    }
  });
});

describe('Idempotency-Key while Postgres is away', () => {
  it('keeps no 503: the retry with the same key runs once Postgres is back', async () => {
    const { app, proxy, teardown } = await startAppBehindPostgresProxy();
    try {
      const { token } = await app.clientWithToken();
      const key = randomUUID();
      const create = () =>
        app.call('POST', '/v1/users/outage/devices', token, { deviceType: 'TOTP', deviceName: 'Phone' }, { 'idempotency-key': key });
      await proxy.stop();
      assert.equal((await create()).status, 503);
      await proxy.start();
      let retry = await create();
      for (let i = 0; i < 50 && retry.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 200));
        retry = await create();
      }
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), null);
    } finally {
      await teardown();
    }
  });
});
