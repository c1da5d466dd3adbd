import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher, settleEach } from '../../src/common/batcher.js';

/** Yields to the event loop `n` times: lets other submissions arrive, without waiting for real time. */
const ticks = async (n = 1) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('Batcher', () => {
  it('runs a lone input at once, and what arrives meanwhile as one batch, answering each in order', async () => {
    const batches: number[][] = [];
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        batches.push(inputs);
        if (inputs[0] === 1) await held;
        return inputs.map((i) => i * 10);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const first = batcher.submit(1);
    while (batches.length === 0) await ticks(1);
    // The first batch runs (and is held): these four wait and go together.
    const rest = [2, 3, 4, 5].map((i) => batcher.submit(i));
    await ticks(5);
    release?.();
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40, 50]);
    assert.deepEqual(batches, [[1], [2, 3, 4, 5]]);
  });

  it('never exceeds maxBatch nor maxInFlight', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        running++;
        most = Math.max(most, running);
        sizes.push(inputs.length);
        await ticks(5);
        running--;
        return inputs;
      },
      { maxBatch: 7, maxInFlight: 2 },
    );
    const out = await Promise.all(Array.from({ length: 100 }, (_, i) => batcher.submit(i)));
    assert.deepEqual(
      out,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(most, 2);
    assert.ok(
      sizes.every((s) => s <= 7),
      sizes.join(','),
    );
  });

  it('keeps inputs with one key apart: never in one batch, never in two running batches', async () => {
    const running = new Set<string>();
    const batcher = new Batcher<{ key: string; n: number }, number>(
      async (inputs) => {
        const keys = inputs.map((i) => i.key);
        assert.equal(new Set(keys).size, keys.length, `a batch holds one key twice: ${keys.join(',')}`);
        for (const k of keys) {
          assert.ok(!running.has(k), `key ${k} runs in two batches at once`);
          running.add(k);
        }
        await ticks(3);
        for (const k of keys) running.delete(k);
        return inputs.map((i) => i.n);
      },
      { maxBatch: 10, maxInFlight: 3, key: (i) => i.key },
    );
    const inputs = Array.from({ length: 60 }, (_, n) => ({ key: `k${n % 4}`, n }));
    assert.deepEqual(
      await Promise.all(inputs.map((i) => batcher.submit(i))),
      inputs.map((i) => i.n),
    );
  });

  it('gives every input of a failed batch the error, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        calls++;
        await ticks(5);
        if (inputs.includes(13)) throw new Error('unlucky');
        return inputs;
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const first = batcher.submit(1);
    while (calls === 0) await ticks(1);
    const failing = [12, 13, 14].map((i) => batcher.submit(i));
    assert.equal(await first, 1);
    const settled = await Promise.allSettled(failing);
    assert.ok(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'unlucky'));
    assert.equal(await batcher.submit(15), 15);
    assert.equal(calls, 3);
  });

  it('refuses a batch that answers the wrong number of results', async () => {
    const batcher = new Batcher<number, number>(() => Promise.resolve([]), { maxBatch: 10, maxInFlight: 1 });
    await assert.rejects(batcher.submit(1), /0 results for 1 inputs/);
  });
});

describe('Batcher queue timeout', () => {
  it('fails inputs that waited too long behind stuck batches, with the given error, and only those', async () => {
    let release: (() => void) | undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let running: (() => void) | undefined;
    const firstRuns = new Promise<void>((resolve) => (running = resolve));
    const batcher = new Batcher<string, string>(
      async (inputs) => {
        running?.();
        await stuck;
        return inputs;
      },
      { maxBatch: 10, maxInFlight: 1, key: (k) => k, queueTimeoutMs: 200, queueTimeoutError: () => new Error('no slot') },
    );
    // The loop must stay alive while everything waits (the sweeper's timer does not hold it).
    const keepAlive = setTimeout(() => undefined, 10_000);
    const first = batcher.submit('a');
    await firstRuns;
    // Same key as the running one, and a different key behind the only slot: both wait, both time out.
    const started = Date.now();
    const queued = [batcher.submit('a'), batcher.submit('b')];
    const settled = await Promise.allSettled(queued);
    const waited = Date.now() - started;
    assert.ok(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'no slot'));
    // At least the timeout; the upper bound is loose, as a loaded machine delays timers.
    assert.ok(waited >= 190 && waited < 3000, `timed out after ${waited} ms`);
    release?.();
    assert.equal(await first, 'a', 'the running batch is not touched');
    assert.equal(await batcher.submit('c'), 'c');
    clearTimeout(keepAlive);
  });
});

describe('Batcher per-input failures', () => {
  it('fails only the inputs whose output is a BatchFailure; settleEach runs inputs one at a time', async () => {
    let running = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      (inputs) =>
        settleEach(inputs, async (i) => {
          running++;
          most = Math.max(most, running);
          await ticks(1);
          running--;
          if (i % 3 === 0) throw new Error(`bad ${i}`);
          return i;
        }),
      { maxBatch: 50, maxInFlight: 1 },
    );
    const settled = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => batcher.submit(i)));
    settled.forEach((s, i) => {
      if (i % 3 === 0) assert.ok(s.status === 'rejected' && (s.reason as Error).message === `bad ${i}`);
      else assert.deepEqual(s, { status: 'fulfilled', value: i });
    });
    assert.equal(most, 1);
  });
});
