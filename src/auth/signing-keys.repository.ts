import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { SigningKey } from './oauth-client.js';

interface KeyRow {
  kid: string;
  sealed_private_key: string;
  public_jwk: Record<string, string>;
  created_at: Date;
}

const toKey = (r: KeyRow): SigningKey => ({ kid: r.kid, sealedPrivateKey: r.sealed_private_key, publicJwk: r.public_jwk, createdAt: r.created_at });

// Any constant works; all replicas must use the same one.
const KEY_CREATION_LOCK = 734_201_338;

/** The signing_keys table. */
@Injectable()
export class SigningKeysRepository {
  constructor(private readonly db: Database) {}

  async all(): Promise<SigningKey[]> {
    return (await this.db.query<KeyRow>('SELECT kid, sealed_private_key, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC', [])).map(
      toKey,
    );
  }

  /**
   * The newest key, created with `make` when there is none. Serialised by a transaction-scoped
   * advisory lock, so replicas starting together agree on one key.
   */
  newestOrCreate(make: () => SigningKey): Promise<SigningKey> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const [newest] = await tx.query<KeyRow>(
        'SELECT kid, sealed_private_key, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC LIMIT 1',
        [],
      );
      if (newest !== undefined) return toKey(newest);
      const key = make();
      await tx.query('INSERT INTO signing_keys (kid, sealed_private_key, public_jwk, created_at) VALUES ($1, $2, $3, $4)', [
        key.kid,
        key.sealedPrivateKey,
        JSON.stringify(key.publicJwk),
        key.createdAt,
      ]);
      return key;
    });
  }
}
