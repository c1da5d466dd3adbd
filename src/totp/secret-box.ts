import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { randomBytesPooled } from '../common/random.js';
import type { EncryptionKey } from '../config/config.js';

/**
 * AES-256-GCM for secrets at rest (TOTP secrets in Redis and Postgres, signing keys in Postgres).
 * Sealed form: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url). The associated data binds a
 * ciphertext to its record (e.g. client and device id), so a sealed secret copied to another
 * record does not open. The first key seals; every configured key opens, which allows rotation.
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  seal(plaintext: Buffer | string, associatedData: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, associatedData: string): Buffer {
    const [version, id, iv, ciphertext, tag] = sealed.split('.');
    const key = id === undefined ? undefined : this.byId.get(id);
    if (version !== 'v1' || key === undefined || iv === undefined || ciphertext === undefined || tag === undefined) {
      throw new Error(`Cannot open a sealed secret under key "${id ?? '?'}": unknown format or key id`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    } catch (error) {
      throw new Error(
        `A secret sealed under key id "${id}" does not open: ENCRYPTION_KEY "${id}" is not the key it was sealed with, or the record was altered`,
        { cause: error },
      );
    }
  }

  /**
   * Keys for another purpose, derived (HKDF-SHA-256, `info` naming the purpose) from each
   * encryption key under the same id, the first one current: the encryption keys themselves are
   * never used for anything else.
   */
  derive(info: string): { currentKeyId: string; keys: Map<string, Buffer> } {
    const keys = new Map(this.keys.map(({ id, key }) => [id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32))]));
    return { currentKeyId: this.keys[0].id, keys };
  }

  keyIdOf(sealed: string): string {
    return sealed.split('.')[1] ?? '';
  }
}
