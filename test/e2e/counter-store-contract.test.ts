import { randomBytes } from 'node:crypto';
import { MemoryCounterStore } from '../../src/counters/memory-counter.store.js';
import { RedisCounterStore } from '../../src/counters/redis-counter.store.js';
import { TestClock } from '../support/clock.js';
import { counterStoreContract } from '../support/counter-contract.js';
import { connectedRedis } from '../support/harness.js';
import { sleep } from '../support/otp.js';

counterStoreContract('Redis', async () => {
  const redis = await connectedRedis();
  return {
    store: Object.assign(new RedisCounterStore(redis, `counters:${randomBytes(4).toString('hex')}:`), { close: () => redis.close() }),
    elapse: sleep,
  };
});

counterStoreContract('memory', () => {
  const clock = new TestClock(Date.now());
  return Promise.resolve({ store: new MemoryCounterStore(() => clock.nowMs()), elapse: (ms: number) => Promise.resolve(clock.advance(ms)) });
});
