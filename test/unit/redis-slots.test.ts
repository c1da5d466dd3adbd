import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { pendingKeys } from '../../src/pending/pending-keys.js';
import { RedisUserIndex } from '../../src/redis/user-index.js';
import { keySlot } from '../support/cluster-slot.js';

describe('Redis keys in a cluster', () => {
  it('computes slots as Redis does (the examples of the Cluster specification and CLUSTER KEYSLOT)', () => {
    assert.equal(keySlot('123456789'), 12739); // CRC16/XMODEM check value 0x31C3 % 16384
    assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
    assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'));
  });

  it('puts every key a pending-store script touches in one slot, for any client, user and registration', () => {
    for (let i = 0; i < 500; i++) {
      const keys = pendingKeys('totp:', randomUUID(), randomUUID(), `user-${i}@example.com`);
      const slots = new Set([keys.registration, keys.user, keys.client].map(keySlot));
      assert.equal(slots.size, 1, JSON.stringify(keys));
    }
  });

  it("puts a user's index of login requests or Idempotency-Keys in their client's slot, whatever the user id", () => {
    const index = new RedisUserIndex('totp:', 'ulogin', 'userId');
    for (let i = 0; i < 500; i++) {
      const clientId = randomUUID();
      const key = index.key(clientId, `user-${i}@example.com`);
      assert.equal(keySlot(key), keySlot(pendingKeys('totp:', clientId, randomUUID()).client), key);
    }
  });
});
