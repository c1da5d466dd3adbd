import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throttleAddress } from '../../src/auth/client-address.js';

describe('throttleAddress', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, and counts IPv6 by its /64', () => {
    assert.equal(throttleAddress('203.0.113.7'), '203.0.113.7');
    assert.equal(throttleAddress('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(throttleAddress('2001:db8:aa:bb:1:2:3:4'), '2001:db8:aa:bb::/64');
    assert.equal(throttleAddress('2001:0db8:00aa:00bb::9'), '2001:db8:aa:bb::/64');
    assert.equal(throttleAddress('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleAddress('::1'), '0:0:0:0::/64');
  });

  it('counts anything that is not an address under one shared name', () => {
    for (const junk of ['x'.repeat(8000), 'unknown', '10.0.0.1, 10.0.0.2', '', '999.1.1.1']) assert.equal(throttleAddress(junk), 'not-an-address');
  });
});
