import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createClient } from 'redis';
import { MemoryPendingStore } from '../../src/pending/memory-pending.store.js';
import { RedisPendingStore } from '../../src/pending/redis-pending.store.js';
import { TestClock } from '../support/clock.js';
import { connectedRedis, REDIS_URL } from '../support/harness.js';
import { sleep } from '../support/otp.js';
import { pendingStoreContract, registration } from '../support/pending-contract.js';

pendingStoreContract('Redis', async () => {
  const redis = await connectedRedis();
  const store = new RedisPendingStore(redis, `contract:${randomBytes(4).toString('hex')}:`, true, Date.now);
  return { store: Object.assign(store, { close: () => redis.close() }), now: Date.now, elapse: sleep };
});

pendingStoreContract('memory', () => {
  const clock = new TestClock(Date.now());
  const now = () => clock.nowMs();
  return Promise.resolve({ store: new MemoryPendingStore(now), now, elapse: (ms: number) => Promise.resolve(clock.advance(ms)) });
});

describe('pending store: registrations written before keys were hash-tagged', () => {
  it('finds, activates and deletes a registration stored under the old keys, keeping its TTL and counts', async () => {
    const redis = await connectedRedis();
    const prefix = `legacy:${randomBytes(4).toString('hex')}:`;
    const store = new RedisPendingStore(redis, prefix, true, Date.now);
    const raw = createClient({ url: REDIS_URL });
    await raw.connect();
    try {
      const r = registration({ clientId: randomUUID(), expiresAt: Date.now() + 60_000 });
      // As the previous version wrote it.
      await raw.hSet(`${prefix}reg:${r.clientId}:${r.authId}`, { data: JSON.stringify(r), name: r.deviceName, failures: '2', lockedUntil: '0' });
      await raw.pExpire(`${prefix}reg:${r.clientId}:${r.authId}`, 60_000);
      await raw.zAdd(`${prefix}ureg:${r.clientId}:${r.userId}`, { score: r.expiresAt, value: r.authId });
      await raw.zAdd(`${prefix}creg:${r.clientId}`, { score: r.expiresAt, value: r.authId });
      assert.deepEqual(
        (await store.listForUser(r.clientId, r.userId)).map((x) => x.authId),
        [r.authId],
      );
      const claim = await store.claim(r.clientId, r.authId, 5000);
      assert.equal(claim.status, 'OK');
      assert.equal(claim.status === 'OK' ? claim.failures : -1, 2);
      assert.equal(await raw.exists(`${prefix}reg:${r.clientId}:${r.authId}`), 0, 'moved off the old key');
      const ttl = await raw.pTTL(`${prefix}reg:{${r.clientId}}:${r.authId}`);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
      assert.deepEqual(await store.recordFailure(r.clientId, r.userId, r.authId, 5), { status: 'REMAINING', remaining: 2 });
      assert.equal(await store.remove(r.clientId, r.userId, r.authId), 'REMOVED');
      assert.deepEqual(await store.listForUser(r.clientId, r.userId), []);

      // Concurrent first uses of an old-layout registration: one moves it, all of them find it.
      const s = registration({ clientId: randomUUID(), expiresAt: Date.now() + 60_000 });
      await raw.hSet(`${prefix}reg:${s.clientId}:${s.authId}`, { data: JSON.stringify(s), name: s.deviceName, failures: '0', lockedUntil: '0' });
      await raw.pExpire(`${prefix}reg:${s.clientId}:${s.authId}`, 60_000);
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim(s.clientId, s.authId, 5000)));
      assert.equal(claims.filter((c) => c.status === 'OK').length, 1);
      assert.equal(claims.filter((c) => c.status === 'BUSY').length, 19, claims.map((c) => c.status).join(','));
    } finally {
      await raw.close();
      await redis.close();
    }
  });
});
