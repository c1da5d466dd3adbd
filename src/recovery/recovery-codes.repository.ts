import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { userHasDeviceSql } from '../devices/devices-sql.js';

export interface RecoveryCodeState {
  remainingCodes: number;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type RecoveryVerification =
  | { status: 'USED'; remainingCodes: number }
  | { status: 'WRONG' }
  /** A code of the set that was used before: refused, and counted as a wrong one is. */
  | { status: 'SPENT' }
  /** lockedNow: this attempt took the last place (its code was wrong, or `spent`). */
  | { status: 'LOCKED'; until: Date; lockedNow: boolean; spent?: boolean }
  | { status: 'NO_CODES' };

export interface StoredSet {
  clientId: string;
  userId: string;
  keyId: string;
  hashes: Buffer[];
  now: Date;
  /** Only when the user has none yet (the set's primary key decides, also under concurrency); otherwise it replaces the old set at once. */
  firstOnly: boolean;
  /** Only while the user has a device (issuance at activation, against a concurrent erasure). */
  whileDeviceExists: boolean;
}

export interface LockPolicy {
  threshold: number;
  seconds: number;
}

/** The recovery_code_sets and recovery_codes tables. */
@Injectable()
export class RecoveryCodesRepository {
  constructor(private readonly db: Database) {}

  /** Stores a set of code hashes (false when it was not stored). The lock state is kept. */
  async storeSet(set: StoredSet): Promise<boolean> {
    // One statement (one round trip, no transaction held open): the set row decides, the old
    // codes go and the new ones come in the same snapshot (new hashes never equal old ones).
    // whileDeviceExists: only while one of the user's devices is there, holding it (KEY SHARE)
    // until the statement commits, so an erasure either sees this set or stops it.
    const upsert = set.firstOnly
      ? 'ON CONFLICT DO NOTHING'
      : 'ON CONFLICT (client_id, user_id) DO UPDATE SET generation = recovery_code_sets.generation + 1, key_id = $3, created_at = $4, last_used_at = NULL';
    const guard = set.whileDeviceExists ? `WHERE ${userHasDeviceSql('$1', '$2')}` : '';
    const stored = await this.db.query(
      `WITH s AS (INSERT INTO recovery_code_sets (client_id, user_id, key_id, created_at) SELECT $1::uuid, $2::text, $3::text, $4::timestamptz ${guard} ${upsert} RETURNING client_id, user_id),
       old AS (DELETE FROM recovery_codes c USING s WHERE c.client_id = s.client_id AND c.user_id = s.user_id)
       INSERT INTO recovery_codes (client_id, user_id, code_hash) SELECT s.client_id, s.user_id, h FROM s, unnest($5::bytea[]) AS h RETURNING 1`,
      [set.clientId, set.userId, set.keyId, set.now, set.hashes],
    );
    return stored.length > 0;
  }

  /**
   * Spends a code, or counts a failure. Each attempt first reserves its place in the count with
   * one atomic statement, refused while the user is locked; the attempt that reserves the last
   * place locks the user at once (and unlocks if its code turns out right). Only a right code
   * gives places back (it starts the count afresh); a wrong code and a code used before keep
   * theirs. So no more than `threshold` wrong or used codes are ever compared per lock period, on
   * any number of replicas, and no transaction or row lock is held while a code is compared: a
   * flood answers 429, not 503.
   */
  async verify(
    clientId: string,
    userId: string,
    hashFor: (keyId: string) => Buffer | undefined,
    now: Date,
    lock: LockPolicy,
  ): Promise<RecoveryVerification> {
    const until = new Date(now.getTime() + lock.seconds * 1000);
    const key = [clientId, userId];
    const [reserved] = await this.db.query<{ key_id: string; locking: boolean }>(
      `UPDATE recovery_code_sets
          SET failures = CASE WHEN failures + 1 >= $4 THEN 0 ELSE failures + 1 END,
              locked_until = CASE WHEN failures + 1 >= $4 THEN $5 ELSE locked_until END
        WHERE client_id = $1 AND user_id = $2 AND (locked_until IS NULL OR locked_until <= $3)
        RETURNING key_id, failures = 0 AND locked_until IS NOT DISTINCT FROM $5 AS locking`,
      [...key, now, lock.threshold, until],
    );
    if (reserved === undefined) {
      const [set] = await this.db.query<{ locked_until: Date | null }>(
        'SELECT locked_until FROM recovery_code_sets WHERE client_id = $1 AND user_id = $2',
        key,
      );
      if (set === undefined) return { status: 'NO_CODES' };
      return { status: 'LOCKED', until: set.locked_until ?? until, lockedNow: false };
    }
    const hash = hashFor(reserved.key_id);
    const used =
      hash === undefined
        ? []
        : await this.db.query(
            'UPDATE recovery_codes SET used_at = $4 WHERE client_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL RETURNING 1',
            [...key, hash, now],
          );
    if (used.length > 0) {
      // The lock this attempt set (if it took the last place) goes; a later one stays.
      const [left] = await this.db.query<{ remaining: number }>(
        `WITH reset AS (
           UPDATE recovery_code_sets SET failures = 0, last_used_at = $3,
                  locked_until = CASE WHEN $4 AND locked_until = $5 THEN NULL ELSE locked_until END
            WHERE client_id = $1 AND user_id = $2)
         SELECT count(*)::int AS remaining FROM recovery_codes WHERE client_id = $1 AND user_id = $2 AND used_at IS NULL`,
        [...key, now, reserved.locking, until],
      );
      return { status: 'USED', remainingCodes: left.remaining };
    }
    // A code used before keeps its place, like a wrong one. It is no guess, but giving its place
    // back let anyone who knows one spent code guess without end: by the time it is known to be
    // spent, the count may have locked and started again (the give-back then wiped the count and
    // lifted the lock), and a spent code gains its sender nothing.
    const spent =
      hash !== undefined &&
      (await this.db.query('SELECT 1 FROM recovery_codes WHERE client_id = $1 AND user_id = $2 AND code_hash = $3', [...key, hash])).length > 0;
    if (reserved.locking) return { status: 'LOCKED', until, lockedNow: true, spent };
    return spent ? { status: 'SPENT' } : { status: 'WRONG' };
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

  /** Erasing a user: the set, its codes and the user's lock. */
  async deleteForUser(clientId: string, userId: string): Promise<void> {
    await this.db.query(
      `WITH codes AS (DELETE FROM recovery_codes WHERE client_id = $1 AND user_id = $2)
       DELETE FROM recovery_code_sets WHERE client_id = $1 AND user_id = $2`,
      [clientId, userId],
    );
  }
}
