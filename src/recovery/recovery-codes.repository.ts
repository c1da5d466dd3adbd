import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

export interface RecoveryCodeState {
  remainingCodes: number;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type RecoveryVerification =
  | { status: 'USED'; remainingCodes: number }
  | { status: 'WRONG' }
  /** A code of the set that was used before: refused, not counted (it is not a guess). */
  | { status: 'SPENT' }
  | { status: 'LOCKED'; until: Date; lockedNow: boolean }
  | { status: 'NO_CODES' };

export interface LockPolicy {
  threshold: number;
  seconds: number;
}

/** The recovery_code_sets and recovery_codes tables. */
@Injectable()
export class RecoveryCodesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Stores a set of code hashes. `firstOnly`: only when the user has none yet (false when one
   * exists, also under concurrency: the set's primary key decides); otherwise the old set is
   * replaced in the same transaction, so it stops working at once. The lock state is kept.
   */
  async storeSet(clientId: string, userId: string, keyId: string, hashes: Buffer[], now: Date, firstOnly: boolean): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const upsert = firstOnly
        ? 'ON CONFLICT DO NOTHING'
        : 'ON CONFLICT (client_id, user_id) DO UPDATE SET generation = recovery_code_sets.generation + 1, key_id = $3, created_at = $4, last_used_at = NULL';
      const stored = await tx.query(
        `INSERT INTO recovery_code_sets (client_id, user_id, key_id, created_at) VALUES ($1, $2, $3, $4) ${upsert} RETURNING 1`,
        [clientId, userId, keyId, now],
      );
      if (stored.length === 0) return false;
      await tx.query('DELETE FROM recovery_codes WHERE client_id = $1 AND user_id = $2', [clientId, userId]);
      await tx.query('INSERT INTO recovery_codes (client_id, user_id, code_hash) SELECT $1, $2, unnest($3::bytea[])', [clientId, userId, hashes]);
      return true;
    });
  }

  /**
   * Spends a code, or counts a failure. The set's row is locked first, so verifications of one
   * user run one after another on every replica: the lock is checked before each comparison, and
   * no more than `threshold` wrong codes are ever compared per lock period.
   */
  async verify(
    clientId: string,
    userId: string,
    hashFor: (keyId: string) => Buffer | undefined,
    now: Date,
    lock: LockPolicy,
  ): Promise<RecoveryVerification> {
    return this.db.transaction(async (tx) => {
      const [set] = await tx.query<{ key_id: string; failures: number; locked_until: Date | null }>(
        'SELECT key_id, failures, locked_until FROM recovery_code_sets WHERE client_id = $1 AND user_id = $2 FOR UPDATE',
        [clientId, userId],
      );
      if (set === undefined) return { status: 'NO_CODES' };
      if (set.locked_until !== null && set.locked_until > now) return { status: 'LOCKED', until: set.locked_until, lockedNow: false };
      const hash = hashFor(set.key_id);
      const [code] =
        hash === undefined
          ? []
          : await tx.query<{ used_at: Date | null }>('SELECT used_at FROM recovery_codes WHERE client_id = $1 AND user_id = $2 AND code_hash = $3', [
              clientId,
              userId,
              hash,
            ]);
      if (code !== undefined && code.used_at !== null) return { status: 'SPENT' };
      const used =
        code === undefined
          ? []
          : await tx.query('UPDATE recovery_codes SET used_at = $4 WHERE client_id = $1 AND user_id = $2 AND code_hash = $3 RETURNING 1', [
              clientId,
              userId,
              hash,
              now,
            ]);
      if (used.length > 0) {
        const [left] = await tx.query<{ remaining: number }>(
          `WITH reset AS (UPDATE recovery_code_sets SET failures = 0, last_used_at = $3 WHERE client_id = $1 AND user_id = $2)
           SELECT count(*)::int AS remaining FROM recovery_codes WHERE client_id = $1 AND user_id = $2 AND used_at IS NULL`,
          [clientId, userId, now],
        );
        return { status: 'USED', remainingCodes: left.remaining };
      }
      if (set.failures + 1 < lock.threshold) {
        await tx.query('UPDATE recovery_code_sets SET failures = failures + 1 WHERE client_id = $1 AND user_id = $2', [clientId, userId]);
        return { status: 'WRONG' };
      }
      const until = new Date(now.getTime() + lock.seconds * 1000);
      await tx.query('UPDATE recovery_code_sets SET failures = 0, locked_until = $3 WHERE client_id = $1 AND user_id = $2', [
        clientId,
        userId,
        until,
      ]);
      return { status: 'LOCKED', until, lockedNow: true };
    });
  }

  async state(clientId: string, userId: string): Promise<RecoveryCodeState | undefined> {
    const [row] = await this.db.query<{ created_at: Date; last_used_at: Date | null; remaining: number }>(
      `SELECT s.created_at, s.last_used_at,
              (SELECT count(*)::int FROM recovery_codes c WHERE c.client_id = s.client_id AND c.user_id = s.user_id AND c.used_at IS NULL) AS remaining
         FROM recovery_code_sets s WHERE s.client_id = $1 AND s.user_id = $2`,
      [clientId, userId],
    );
    return row === undefined ? undefined : { remainingCodes: row.remaining, createdAt: row.created_at, lastUsedAt: row.last_used_at };
  }

  /** Erasing a user: the set, its codes (cascade) and the user's lock. */
  async deleteForUser(clientId: string, userId: string): Promise<void> {
    await this.db.query('DELETE FROM recovery_code_sets WHERE client_id = $1 AND user_id = $2', [clientId, userId]);
  }
}
