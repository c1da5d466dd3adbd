import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PendingRegistration, PendingStore } from '../../src/pending/pending.store.js';

const limits = { perUser: 3, perClient: 5 };
export function registration(over: Partial<PendingRegistration> = {}): PendingRegistration {
  const now = Date.now();
  return {
    authId: randomUUID(),
    clientId: 'c1',
    userId: 'u1',
    deviceType: 'TOTP',
    deviceName: 'Phone',
    accountName: 'u1',
    sealedSecret: 'v1.k1.x.y.z',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    createdAt: now,
    expiresAt: now + 60_000,
    ...over,
  };
}

/**
 * Each implementation with a way to let time pass: Redis expires keys on its own clock (a real
 * wait); the memory store reads the service's clock (moved).
 */
export interface Subject {
  store: PendingStore;
  now: () => number;
  elapse: (ms: number) => Promise<void>;
}

/** The contract every pending store holds to (Redis in each topology, memory). */
export function pendingStoreContract(name: string, make: () => Promise<Subject>): void {
  describe(`pending store contract: ${name}`, () => {
    let store: PendingStore;
    let elapse: (ms: number) => Promise<void>;
    let now: () => number;
    before(async () => {
      ({ store, elapse, now } = await make());
    });
    after(() => store.close());

    it('keeps a registration until its expiry, then forgets it', async () => {
      const r = registration({ expiresAt: now() + 300 });
      assert.equal(await store.create(r, limits), 'OK');
      assert.deepEqual(await store.get('c1', r.authId), r);
      assert.equal(await store.get('other-client', r.authId), undefined);
      await elapse(400);
      assert.equal(await store.get('c1', r.authId), undefined);
      assert.deepEqual(await store.claim('c1', r.authId, 1000), { status: 'NOT_FOUND' });
    });

    it('enforces the per-user and per-client pending limits, counting only live registrations', async () => {
      const clientId = randomUUID();
      for (let i = 0; i < 3; i++) assert.equal(await store.create(registration({ clientId }), limits), 'OK');
      assert.equal(await store.create(registration({ clientId }), limits), 'USER_LIMIT');
      assert.equal(await store.create(registration({ clientId, userId: 'u2' }), limits), 'OK');
      assert.equal(await store.create(registration({ clientId, userId: 'u3' }), limits), 'OK');
      assert.equal(await store.create(registration({ clientId, userId: 'u4' }), limits), 'CLIENT_LIMIT');
      const [first] = await store.listForUser(clientId, 'u1');
      assert.equal(await store.remove(clientId, 'u1', first.authId), 'REMOVED');
      assert.equal(await store.create(registration({ clientId, userId: 'u1' }), limits), 'OK');
      const shortLived = randomUUID();
      await store.create(registration({ clientId: shortLived, expiresAt: now() + 200 }), limits);
      await store.create(registration({ clientId: shortLived, expiresAt: now() + 200 }), limits);
      await store.create(registration({ clientId: shortLived, expiresAt: now() + 200 }), limits);
      await elapse(300);
      assert.equal(await store.create(registration({ clientId: shortLived }), limits), 'OK');
    });

    it('lets one activation at a time hold the lock, even with 20 concurrent claims', async () => {
      const r = registration({ clientId: randomUUID() });
      await store.create(r, limits);
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim(r.clientId, r.authId, 5000)));
      assert.equal(claims.filter((c) => c.status === 'OK').length, 1);
      assert.equal(claims.filter((c) => c.status === 'BUSY').length, 19);
      await store.release(r.clientId, r.authId);
      assert.equal((await store.claim(r.clientId, r.authId, 5000)).status, 'OK');
    });

    it('counts wrong attempts, releases the lock each time, and destroys the registration at the limit', async () => {
      const r = registration({ clientId: randomUUID() });
      await store.create(r, limits);
      for (const remaining of [4, 3, 2, 1]) {
        assert.equal((await store.claim(r.clientId, r.authId, 5000)).status, 'OK');
        assert.deepEqual(await store.recordFailure(r.clientId, r.userId, r.authId, 5), { status: 'REMAINING', remaining });
      }
      const last = await store.claim(r.clientId, r.authId, 5000);
      assert.equal(last.status === 'OK' ? last.failures : -1, 4);
      assert.deepEqual(await store.recordFailure(r.clientId, r.userId, r.authId, 5), { status: 'EXHAUSTED' });
      assert.equal(await store.get(r.clientId, r.authId), undefined);
      assert.deepEqual(await store.recordFailure(r.clientId, r.userId, r.authId, 5), { status: 'NOT_FOUND' });
      assert.deepEqual(await store.listForUser(r.clientId, r.userId), []);
    });

    it('lets a lock lapse after its time', async () => {
      const r = registration({ clientId: randomUUID() });
      await store.create(r, limits);
      assert.equal((await store.claim(r.clientId, r.authId, 150)).status, 'OK');
      assert.equal((await store.claim(r.clientId, r.authId, 150)).status, 'BUSY');
      await elapse(200);
      assert.equal((await store.claim(r.clientId, r.authId, 150)).status, 'OK');
    });

    it('renames and removes', async () => {
      const r = registration({ clientId: randomUUID() });
      await store.create(r, limits);
      assert.equal(await store.rename(r.clientId, r.authId, 'Renamed'), true);
      assert.equal((await store.get(r.clientId, r.authId))?.deviceName, 'Renamed');
      const claimed = await store.claim(r.clientId, r.authId, 10);
      assert.equal(claimed.status === 'OK' ? claimed.registration.deviceName : '', 'Renamed');
      await store.release(r.clientId, r.authId);
      assert.equal(await store.remove(r.clientId, 'someone-else', r.authId), 'NOT_FOUND', 'another user of the client');
      assert.equal(await store.remove(r.clientId, r.userId, r.authId), 'REMOVED');
      assert.equal(await store.remove(r.clientId, r.userId, r.authId), 'NOT_FOUND');
      assert.equal(await store.rename(r.clientId, r.authId, 'x'), false);
    });

    it('refuses to remove a registration an activation holds, unless asked to', async () => {
      const r = registration({ clientId: randomUUID() });
      await store.create(r, limits);
      assert.equal((await store.claim(r.clientId, r.authId, 5000)).status, 'OK');
      assert.equal(await store.remove(r.clientId, r.userId, r.authId), 'BUSY');
      assert.ok((await store.get(r.clientId, r.authId)) !== undefined);
      assert.equal(await store.remove(r.clientId, r.userId, r.authId, { evenIfClaimed: true }), 'REMOVED');
      assert.deepEqual(await store.listForUser(r.clientId, r.userId), []);
    });
  });
}
