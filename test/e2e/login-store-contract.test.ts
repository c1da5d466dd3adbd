import { MemoryLoginRequestStore } from '../../src/login/memory-login-request.store.js';
import { loginStoreContract, twoRedisLoginStores } from '../support/login-contract.js';

loginStoreContract('Redis', () => twoRedisLoginStores());

loginStoreContract('memory', () => {
  const store = new MemoryLoginRequestStore(Date.now);
  return Promise.resolve({ first: store, second: store, close: () => store.close() });
});
