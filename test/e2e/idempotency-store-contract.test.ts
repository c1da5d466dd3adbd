import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MemoryIdempotencyStore } from '../../src/idempotency/memory-idempotency.store.js';
import { RedisIdempotencyStore } from '../../src/idempotency/redis-idempotency.store.js';
import type { IdempotencyStore } from '../../src/idempotency/idempotency.store.js';
import { SecretBox } from '../../src/totp/secret-box.js';
import { TestClock } from '../support/clock.js';
import { connectedRedis } from '../support/harness.js';
import { sleep } from '../support/otp.js';

const answer = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"secret":"JBSWY3DP"}' };

/** A store, how to let `ms` of its time pass, and how to close it. */
interface Subject {
  store: IdempotencyStore;
  pass(ms: number): Promise<void>;
  close(): Promise<void>;
}

function contract(name: string, open: () => Promise<Subject>): void {
  describe(`idempotency store contract: ${name}`, () => {
    let subject: Subject;
    before(async () => (subject = await open()));
    after(() => subject.close());

    it('starts a key once: of 50 concurrent begins one starts, the rest see it running', async () => {
      const key = randomUUID();
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => subject.store.begin('c1', key, 'f1', 5000)));
      assert.equal(outcomes.filter((o) => o.status === 'STARTED').length, 1);
      assert.equal(outcomes.filter((o) => o.status === 'IN_PROGRESS').length, 49);
    });

    it('replays the kept answer for the same fingerprint, refuses another, per client', async () => {
      const key = randomUUID();
      const started = await subject.store.begin('c1', key, 'f1', 5000);
      assert.ok(started.status === 'STARTED');
      assert.equal(await subject.store.complete('c1', key, started.run, answer, 60_000), true);
      assert.deepEqual(await subject.store.begin('c1', key, 'f1', 5000), { status: 'DONE', response: answer });
      assert.deepEqual(await subject.store.begin('c1', key, 'f2', 5000), { status: 'REUSED' });
      assert.equal((await subject.store.begin('c2', key, 'f2', 5000)).status, 'STARTED');
    });

    it('forgets an abandoned key (the retry runs), but never a kept answer', async () => {
      const key = randomUUID();
      const first = await subject.store.begin('c1', key, 'f1', 5000);
      assert.ok(first.status === 'STARTED');
      await subject.store.abandon('c1', key, first.run);
      const second = await subject.store.begin('c1', key, 'f1', 5000);
      assert.ok(second.status === 'STARTED');
      await subject.store.complete('c1', key, second.run, answer, 60_000);
      await subject.store.abandon('c1', key, second.run);
      assert.equal((await subject.store.begin('c1', key, 'f1', 5000)).status, 'DONE');
    });

    it('forgets, on erasing a user, every key begun on their paths for that client, and only those', async () => {
      const begin = (client: string, key: string, fingerprint: string, userId?: string) =>
        subject.store.begin(client, key, fingerprint, 5000, userId);
      const [done, running, theirs, otherClient, noUser] = Array.from({ length: 5 }, () => randomUUID());
      const first = await begin('c1', done, 'f1', 'u1');
      assert.ok(first.status === 'STARTED');
      assert.equal(await subject.store.complete('c1', done, first.run, answer, 60_000, 'u1'), true);
      assert.equal((await begin('c1', running, 'f1', 'u1')).status, 'STARTED');
      const other = await begin('c1', theirs, 'f-u2', 'u2');
      assert.ok(other.status === 'STARTED');
      await subject.store.complete('c1', theirs, other.run, answer, 60_000, 'u2');
      assert.equal((await begin('c1', theirs, 'f-u1', 'u1')).status, 'REUSED', 'the same key on another path');
      for (const [client, key, userId] of [
        ['c2', otherClient, 'u1'],
        ['c1', noUser, undefined],
      ] as const) {
        const started = await begin(client, key, 'f1', userId);
        assert.ok(started.status === 'STARTED');
        await subject.store.complete(client, key, started.run, answer, 60_000, userId);
      }
      await subject.store.eraseUser('c1', 'u1');
      assert.equal((await begin('c1', done, 'f1', 'u1')).status, 'STARTED', 'the kept answer is gone: the request runs afresh');
      assert.equal((await begin('c1', running, 'f1', 'u1')).status, 'STARTED');
      assert.deepEqual(await begin('c1', theirs, 'f-u2', 'u2'), { status: 'DONE', response: answer });
      assert.deepEqual(await begin('c2', otherClient, 'f1', 'u1'), { status: 'DONE', response: answer });
      assert.deepEqual(await begin('c1', noUser, 'f1'), { status: 'DONE', response: answer });
    });

    it('frees a key whose run outlived its lease; the late run can neither complete nor abandon the new one', async () => {
      const key = randomUUID();
      const slow = await subject.store.begin('c1', key, 'f1', 50);
      await subject.pass(100);
      const retry = await subject.store.begin('c1', key, 'f1', 5000);
      assert.ok(slow.status === 'STARTED' && retry.status === 'STARTED');
      assert.equal(await subject.store.complete('c1', key, slow.run, answer, 60_000), false);
      await subject.store.abandon('c1', key, slow.run);
      assert.equal((await subject.store.begin('c1', key, 'f1', 5000)).status, 'IN_PROGRESS', 'the retry still holds it');
      assert.equal(await subject.store.complete('c1', key, retry.run, answer, 60_000), true);
    });
  });
}

contract('Redis', async () => {
  const redis = await connectedRedis();
  const box = new SecretBox([{ id: 'k1', key: randomBytes(32) }]);
  const store = new RedisIdempotencyStore(redis, `idem-contract:${randomBytes(4).toString('hex')}:`, box);
  // Leases are Redis's own expiry (PX): its clock cannot be moved, so this one waits.
  return { store, pass: sleep, close: () => redis.close() };
});

contract('memory', () => {
  const clock = new TestClock();
  const store = new MemoryIdempotencyStore(() => clock.nowMs());
  const pass = (ms: number) => {
    clock.advance(ms);
    return Promise.resolve();
  };
  return Promise.resolve({ store, pass, close: () => store.close() });
});
