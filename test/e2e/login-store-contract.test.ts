import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { MemoryLoginRequestStore } from '../../src/login/memory-login-request.store.js';
import { RedisLoginRequestStore } from '../../src/login/redis-login-request.store.js';
import { connectedRedis } from '../support/harness.js';
import { loginStoreContract } from '../support/login-contract.js';

loginStoreContract('Redis', async () => {
  const prefix = `login-contract:${randomBytes(4).toString('hex')}:`;
  const [one, two] = await Promise.all([connectedRedis(), connectedRedis()]);
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
});

loginStoreContract('memory', () => {
  const store = new MemoryLoginRequestStore(Date.now);
  return Promise.resolve({ first: store, second: store, close: () => store.close() });
});
