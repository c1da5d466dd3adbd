import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CounterStore } from '../../src/counters/counter.store.js';

export interface CounterSubject {
  store: CounterStore;
  elapse: (ms: number) => Promise<void>;
}

/** The contract every counter store holds to (Redis in each topology, memory). */
export function counterStoreContract(name: string, make: () => Promise<CounterSubject>): void {
  describe(`counter store contract: ${name}`, () => {
    let store: CounterStore;
    let elapse: (ms: number) => Promise<void>;
    before(async () => {
      ({ store, elapse } = await make());
    });
    after(() => store.close());

    it('counts events in a window that ends on time', async () => {
      const counter = `t:${randomUUID()}`;
      assert.equal((await store.hit(counter, 300)).count, 1);
      const second = await store.hit(counter, 300);
      assert.equal(second.count, 2);
      assert.ok(second.resetInMs > 0 && second.resetInMs <= 300);
      await elapse(350);
      assert.equal((await store.hit(counter, 300)).count, 1);
    });

    it('grants exactly `limit` of 100 concurrent reservations, and peeks without counting', async () => {
      const counter = `r:${randomUUID()}`;
      assert.deepEqual(await store.peek(counter), { count: 0, resetInMs: 0 });
      const results = await Promise.all(Array.from({ length: 100 }, () => store.reserve(counter, 10, 5000)));
      assert.equal(results.filter((r) => r.granted).length, 10);
      const refused = results.find((r) => !r.granted)!;
      assert.ok(refused.resetInMs > 0 && refused.resetInMs <= 5000);
      const peeked = await store.peek(counter);
      assert.equal(peeked.count, 10);
      assert.ok(peeked.resetInMs > 0 && peeked.resetInMs <= 5000);
    });

    it('gives a reservation back, never below zero, keeping the window', async () => {
      const counter = `g:${randomUUID()}`;
      await store.reserve(counter, 2, 5000);
      await store.reserve(counter, 2, 5000);
      assert.equal((await store.reserve(counter, 2, 5000)).granted, false);
      await Promise.all([store.release(counter), store.release(counter), store.release(counter)]);
      const peeked = await store.peek(counter);
      assert.equal(peeked.count, 0);
      assert.ok(peeked.resetInMs > 0 && peeked.resetInMs <= 5000, 'the window still ends when it did');
      assert.equal((await store.reserve(counter, 2, 5000)).granted, true);
      await store.release(`none:${randomUUID()}`);
      assert.deepEqual(await store.peek(`none:${randomUUID()}`), { count: 0, resetInMs: 0 });
    });

    it('forgets a counter: its count and window go, and the next reservation starts afresh', async () => {
      const counter = `f:${randomUUID()}`;
      const other = `f:${randomUUID()}`;
      await store.reserve(counter, 1, 5000);
      await store.reserve(other, 1, 5000);
      await store.forget(counter);
      assert.deepEqual(await store.peek(counter), { count: 0, resetInMs: 0 });
      assert.equal((await store.reserve(counter, 1, 5000)).granted, true);
      assert.equal((await store.peek(other)).count, 1, 'another counter stays');
      await store.forget(`none:${randomUUID()}`);
    });

    it('starts a new window after the old one ends', async () => {
      const counter = `z:${randomUUID()}`;
      assert.equal((await store.reserve(counter, 1, 200)).granted, true);
      assert.equal((await store.reserve(counter, 1, 200)).granted, false);
      await elapse(250);
      assert.equal((await store.peek(counter)).count, 0);
      assert.equal((await store.reserve(counter, 1, 200)).granted, true);
    });
  });
}
