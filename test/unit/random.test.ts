import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytesPooled } from '../../src/common/random.js';

describe('randomBytesPooled', () => {
  it('hands out the asked number of bytes, never the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    // 20-byte draws: 4096 is not a multiple of 20, so refills happen with a remainder left over.
    for (let i = 0; i < 2000; i++) {
      const b = randomBytesPooled(20);
      assert.equal(b.length, 20);
      const hex = b.toString('hex');
      assert.ok(!seen.has(hex), 'a draw repeated');
      seen.add(hex);
    }
    assert.equal(randomBytesPooled(12).length, 12);
    assert.equal(randomBytesPooled(1000).length, 1000);
  });

  it('returns buffers of their own: changing one does not change the next', () => {
    const a = randomBytesPooled(32);
    const copy = Buffer.from(a);
    a.fill(0);
    const b = randomBytesPooled(32);
    assert.notDeepEqual(b, a);
    assert.notDeepEqual(copy, Buffer.alloc(32));
  });

  it('looks uniform: each bit is set in about half of 40,000 bytes', () => {
    const bytes = Buffer.concat(Array.from({ length: 2000 }, () => randomBytesPooled(20)));
    for (let bit = 0; bit < 8; bit++) {
      const ones = bytes.reduce((n, v) => n + ((v >> bit) & 1), 0);
      assert.ok(Math.abs(ones / bytes.length - 0.5) < 0.02, `bit ${bit}: ${ones}`);
    }
  });
});
