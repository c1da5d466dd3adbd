import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox } from '../../src/totp/secret-box.js';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('SecretBox (AES-256-GCM at rest)', () => {
  it('opens what it sealed, and the sealed form does not contain the plaintext', () => {
    const box = new SecretBox([key('k1')]);
    const secret = Buffer.from('super secret totp seed');
    const sealed = box.seal(secret, 'device:1');
    assert.deepEqual(box.open(sealed, 'device:1'), secret);
    assert.ok(!sealed.includes(secret.toString('base64url')) && !sealed.includes(secret.toString('hex')));
    assert.match(sealed, /^v1\.k1\./);
  });

  it('refuses to open under other associated data (a secret moved to another record)', () => {
    const box = new SecretBox([key('k1')]);
    assert.throws(() => box.open(box.seal('x', 'device:1'), 'device:2'), /does not open/);
  });

  it('refuses a tampered ciphertext', () => {
    const box = new SecretBox([key('k1')]);
    const parts = box.seal('abcdef', 'a').split('.');
    parts[3] = Buffer.from('zzzzzz').toString('base64url');
    assert.throws(() => box.open(parts.join('.'), 'a'));
  });

  it('rotates: the first key seals, older keys still open', () => {
    const old = key('old');
    const sealedWithOld = new SecretBox([old]).seal('seed', 'a');
    const rotated = new SecretBox([key('new'), old]);
    assert.equal(rotated.open(sealedWithOld, 'a').toString(), 'seed');
    assert.match(rotated.seal('seed', 'a'), /^v1\.new\./);
    assert.throws(() => new SecretBox([key('other')]).open(sealedWithOld, 'a'), /unknown format or key id/);
  });
});
