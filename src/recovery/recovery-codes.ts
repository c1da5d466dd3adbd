import { createHmac, randomBytes } from 'node:crypto';
import type { SecretBox } from '../totp/secret-box.js';

/** Crockford's base32 alphabet: no I, L, O or U, so codes read aloud and typed survive. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODES_PER_SET = 10;

/** A new code: 10 characters of 5 random bits each (50 bits), shown as XXXXX-XXXXX. */
export function newRecoveryCode(): string {
  // 256 is a multiple of 32: the low 5 bits of a random byte are uniform.
  const chars = [...randomBytes(10)].map((b) => CROCKFORD[b & 31]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** A code as typed (any case, spaces, dashes, O for 0, I or L for 1), or undefined when it cannot be one. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const code = input
    .normalize('NFKC') // fullwidth letters and digits as plain ones
    .toUpperCase()
    // spaces, dashes of every kind (hyphen, non-breaking hyphen, en dash, minus…), soft hyphens, zero-width characters
    .replace(/[\s\-\u2010-\u2015\u2212\u00AD\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{10}$/.test(code) ? code : undefined;
}

/**
 * Keyed hashes of recovery codes: HMAC-SHA-256 over client, user and code, under a key derived
 * (HKDF) from an encryption key. 50 random bits are too many to guess online (10 tries per lock
 * period) and, without the key, a stolen table gives nothing to test guesses against; a slow hash
 * would add nothing a 50-bit random code needs, and would make each verification cost CPU.
 */
export class RecoveryCodeHasher {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(box: SecretBox) {
    ({ keys: this.keys, currentKeyId: this.currentKeyId } = box.derive('totp-device-registration recovery codes'));
  }

  hash(keyId: string, clientId: string, userId: string, normalizedCode: string): Buffer | undefined {
    const key = this.keys.get(keyId);
    return key === undefined ? undefined : createHmac('sha256', key).update(`${clientId}\n${userId}\n${normalizedCode}`).digest();
  }
}
