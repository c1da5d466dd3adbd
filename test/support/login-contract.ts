import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LoginRequest } from '../../src/login/login-request.js';
import { pino } from 'pino';
import type { LoginRequestStore } from '../../src/login/login-request.store.js';
import { RedisLoginRequestStore } from '../../src/login/redis-login-request.store.js';
import type { RedisConfig } from '../../src/config/config.js';
import { connectedRedis } from './harness.js';

function loginRequest(over: Partial<LoginRequest> = {}): LoginRequest {
  const now = Date.now();
  return {
    requestId: randomUUID(),
    clientId: 'c1',
    userId: 'u1',
    boundDeviceId: null,
    challenge: randomBytes(20).toString('hex'),
    ocraSuite: 'OCRA-1:HOTP-SHA256-8:QH40',
    display: { message: 'Log in' },
    createdAt: now,
    expiresAt: now + 60_000,
    state: 'PENDING',
    failures: 0,
    decidedBy: null,
    decidedAt: null,
    redeemedAt: null,
    ...over,
  };
}

/** Two stores that share their data (two replicas), and how to close them. */
export interface LoginStoreSubject {
  first: LoginRequestStore;
  second: LoginRequestStore;
  close(): Promise<void>;
}

export function loginStoreContract(name: string, open: () => Promise<LoginStoreSubject>): void {
  describe(`login-request store contract: ${name}`, () => {
    let s: LoginStoreSubject;
    before(async () => (s = await open()));
    after(() => s.close());

    it('keeps a request for its client and user only', async () => {
      const r = loginRequest();
      await s.first.create(r, 120_000);
      assert.deepEqual(await s.second.get('c1', 'u1', r.requestId), r);
      assert.equal(await s.second.get('c1', 'u2', r.requestId), undefined);
      assert.equal(await s.second.get('c2', 'u1', r.requestId), undefined);
      assert.deepEqual(await s.second.claim('c1', 'u2', r.requestId, Date.now(), 1000), { status: 'NOT_FOUND' });
    });

    it('lets one claim check at a time; a release or a count frees it, an expired lock frees itself', async () => {
      const r = loginRequest();
      await s.first.create(r, 120_000);
      const now = Date.now();
      const claim = await s.first.claim('c1', 'u1', r.requestId, now, 1000);
      assert.equal(claim.status, 'CLAIMED');
      assert.deepEqual(await s.second.claim('c1', 'u1', r.requestId, now, 1000), { status: 'BUSY' });
      if (claim.status !== 'CLAIMED') return;
      await s.first.release('c1', r.requestId, claim.token);
      const next = await s.second.claim('c1', 'u1', r.requestId, now, 1000);
      assert.equal(next.status, 'CLAIMED');
      assert.equal((await s.first.claim('c1', 'u1', r.requestId, now + 1001, 1000)).status, 'CLAIMED');
    });

    it('counts wrong answers to FAILED, and then nothing is claimed or decided', async () => {
      const r = loginRequest();
      await s.first.create(r, 120_000);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const claim = await s.first.claim('c1', 'u1', r.requestId, Date.now(), 1000);
        assert.equal(claim.status, 'CLAIMED');
        if (claim.status !== 'CLAIMED') return;
        statuses.push((await s.second.fail('c1', r.requestId, claim.token, 3, Date.now())).status);
      }
      assert.deepEqual(statuses, ['COUNTED', 'COUNTED', 'DECIDED']);
      const after = await s.first.get('c1', 'u1', r.requestId);
      assert.deepEqual([after?.state, after?.failures], ['FAILED', 3]);
      assert.equal((await s.first.claim('c1', 'u1', r.requestId, Date.now(), 1000)).status, 'CLOSED');
      assert.equal((await s.first.decide('c1', r.requestId, 'x', 'APPROVED', 'd1', Date.now())).status, 'CLOSED');
    });

    it('decides once: a second decision, even with its own claim, is CLOSED', async () => {
      const r = loginRequest();
      await s.first.create(r, 120_000);
      const now = Date.now();
      const one = await s.first.claim('c1', 'u1', r.requestId, now, 1);
      const two = await s.second.claim('c1', 'u1', r.requestId, now + 5, 1000); // the first lock ran out
      assert.ok(one.status === 'CLAIMED' && two.status === 'CLAIMED');
      const first = await s.second.decide('c1', r.requestId, two.token, 'DENIED', 'd2', now + 6);
      const second = await s.first.decide('c1', r.requestId, one.token, 'APPROVED', 'd1', now + 7);
      assert.deepEqual([first.status, second.status], ['DECIDED', 'CLOSED']);
      const stored = await s.first.get('c1', 'u1', r.requestId);
      assert.deepEqual([stored?.state, stored?.decidedBy], ['DENIED', 'd2']);
    });

    it('lands no decision at or after expiresAt', async () => {
      const r = loginRequest({ expiresAt: Date.now() + 1000 });
      await s.first.create(r, 120_000);
      const claim = await s.first.claim('c1', 'u1', r.requestId, r.expiresAt - 10, 1000);
      assert.ok(claim.status === 'CLAIMED');
      assert.equal((await s.first.decide('c1', r.requestId, claim.token, 'APPROVED', 'd1', r.expiresAt)).status, 'EXPIRED');
      assert.equal((await s.first.claim('c1', 'u1', r.requestId, r.expiresAt, 1000)).status, 'CLOSED');
    });

    it('redeems an approval once, and nothing else', async () => {
      const r = loginRequest();
      await s.first.create(r, 120_000);
      assert.equal((await s.first.redeem('c1', 'u1', r.requestId, Date.now())).status, 'REFUSED');
      const claim = await s.first.claim('c1', 'u1', r.requestId, Date.now(), 1000);
      assert.ok(claim.status === 'CLAIMED');
      await s.first.decide('c1', r.requestId, claim.token, 'APPROVED', 'd1', Date.now());
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? s.first : s.second).redeem('c1', 'u1', r.requestId, Date.now())),
      );
      assert.equal(results.filter((x) => x.status === 'REDEEMED').length, 1);
      assert.equal((await s.first.redeem('c1', 'u2', r.requestId, Date.now())).status, 'NOT_FOUND');
    });

    it("wakes the other replica's waiter on a decision, and only that request's", async () => {
      const r = loginRequest();
      const other = loginRequest();
      await s.first.create(r, 120_000);
      await s.first.create(other, 120_000);
      const watch = await s.second.watch('c1', r.requestId);
      const unrelated = await s.second.watch('c1', other.requestId);
      const started = performance.now();
      const claim = await s.first.claim('c1', 'u1', r.requestId, Date.now(), 1000);
      assert.ok(claim.status === 'CLAIMED');
      await s.first.decide('c1', r.requestId, claim.token, 'APPROVED', 'd1', Date.now());
      let unrelatedWoken = false;
      const unrelatedDone = unrelated.done(60_000).then(() => (unrelatedWoken = true));
      await watch.done(5000);
      assert.ok(performance.now() - started < 2000, 'woken by the decision, not by the time');
      // The decision's message has arrived (its waiter woke): a wrong wake would have come with it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(unrelatedWoken, false);
      s.second.wakeAll();
      await unrelatedDone;
    });

    it("erases a user's requests for one client, whatever their state, and nothing else", async () => {
      const userId = `erased-${randomUUID()}`;
      const mine = [loginRequest({ userId }), loginRequest({ userId })];
      const others = [loginRequest({ userId: `kept-${randomUUID()}` }), loginRequest({ userId, clientId: 'c2' })];
      for (const r of [...mine, ...others]) await s.first.create(r, 120_000);
      const claim = await s.first.claim('c1', userId, mine[0].requestId, Date.now(), 1000);
      assert.ok(claim.status === 'CLAIMED');
      await s.first.decide('c1', mine[0].requestId, claim.token, 'APPROVED', 'd1', Date.now());
      await s.second.eraseUser('c1', userId);
      for (const r of mine) {
        assert.equal(await s.first.get('c1', userId, r.requestId), undefined);
        assert.equal((await s.second.claim('c1', userId, r.requestId, Date.now(), 1000)).status, 'NOT_FOUND');
        assert.equal((await s.first.redeem('c1', userId, r.requestId, Date.now())).status, 'NOT_FOUND');
      }
      for (const r of others) assert.deepEqual(await s.first.get(r.clientId, r.userId, r.requestId), r);
      const again = loginRequest({ userId });
      await s.first.create(again, 120_000);
      assert.deepEqual(await s.second.get('c1', userId, again.requestId), again, 'a new request after the erasure is kept');
      await s.first.eraseUser('c1', `nobody-${randomUUID()}`);
    });

    it('ends every wait at wakeAll (shutdown)', async () => {
      const watch = await s.first.watch('c1', randomUUID());
      const started = performance.now();
      s.first.wakeAll();
      await watch.done(10_000);
      assert.ok(performance.now() - started < 1000);
    });
  });
}

/** Two Redis stores on two connections of one topology (two replicas), under a fresh prefix. */
export async function twoRedisLoginStores(config?: RedisConfig): Promise<LoginStoreSubject> {
  const prefix = `login-contract:${randomBytes(4).toString('hex')}:`;
  const [one, two] = await Promise.all([connectedRedis(config), connectedRedis(config)]);
  const logger = pino({ level: 'silent' });
  const first = new RedisLoginRequestStore(one, prefix, logger, 1000);
  const second = new RedisLoginRequestStore(two, prefix, logger, 1000);
  return {
    first,
    second,
    close: async () => {
      await Promise.all([first.close(), second.close()]);
      await Promise.all([one.close(), two.close()]);
    },
  };
}
