import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { newRecoveryCode, normalizeRecoveryCode, RecoveryCodeHasher } from '../../src/recovery/recovery-codes.js';
import { SecretBox } from '../../src/totp/secret-box.js';

describe('recovery codes', () => {
  it('are 10 Crockford base32 characters (50 bits) as XXXXX-XXXXX, and all different', () => {
    const codes = Array.from({ length: 2000 }, newRecoveryCode);
    for (const code of codes) assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    assert.equal(new Set(codes).size, codes.length);
    const seen = new Set(codes.join('').replace(/-/g, ''));
    assert.equal(seen.size, 32, 'every character of the alphabet appears');
  });

  it('normalises what people type', () => {
    const table: Array<[string, string | undefined]> = [
      ['7K3QD-9XW2M', '7K3QD9XW2M'],
      ['7k3qd-9xw2m', '7K3QD9XW2M'],
      [' 7k3qd 9xw2m ', '7K3QD9XW2M'],
      ['7K3Q-D9X-W2M', '7K3QD9XW2M'],
      ['OOOOO-IIIII', '0000011111'],
      ['ooooo-lllll', '0000011111'],
      ['iL1Oo-00000', '1110000000'],
      ['7K3QD\t9XW2M', '7K3QD9XW2M'],
      ['7K3QD\u20139XW2M', '7K3QD9XW2M'], // en dash, as word processors write it
      ['7K3QD\u22129XW2M', '7K3QD9XW2M'], // minus
      ['7K3QD\u2011\u200B9XW2M', '7K3QD9XW2M'], // non-breaking hyphen, zero-width space
      ['\uFF17\uFF2B\uFF13\uFF31\uFF24-9XW2M', '7K3QD9XW2M'], // fullwidth
      ['7K3QD-9XW2U', undefined], // U is not in the alphabet
      ['7K3QD-9XW2', undefined],
      ['7K3QD-9XW2MM', undefined],
      ['7K3QD_9XW2M', undefined],
      ['', undefined],
    ];
    for (const [input, expected] of table) assert.equal(normalizeRecoveryCode(input), expected, JSON.stringify(input));
  });

  it('hashes with a key: per key, client, user and code', () => {
    const a = { id: 'a', key: randomBytes(32) };
    const b = { id: 'b', key: randomBytes(32) };
    const hasher = new RecoveryCodeHasher(new SecretBox([a, b]));
    assert.equal(hasher.currentKeyId, 'a');
    const h = hasher.hash('a', 'c1', 'u1', '7K3QD9XW2M')!;
    assert.equal(h.length, 32);
    assert.deepEqual(hasher.hash('a', 'c1', 'u1', '7K3QD9XW2M'), h);
    for (const other of [
      hasher.hash('b', 'c1', 'u1', '7K3QD9XW2M'),
      hasher.hash('a', 'c2', 'u1', '7K3QD9XW2M'),
      hasher.hash('a', 'c1', 'u2', '7K3QD9XW2M'),
    ])
      assert.notDeepEqual(other, h);
    assert.equal(hasher.hash('unknown', 'c1', 'u1', '7K3QD9XW2M'), undefined);
  });
});
