import type { StoredResponse } from '../common/replayed-response.js';

export type { StoredResponse };

export type BeginOutcome =
  /** `run` names this run: only it completes or abandons the key. */
  | { status: 'STARTED'; run: string }
  /** The same key with another request (method, path or body). */
  | { status: 'REUSED' }
  /** The first request with this key is still running. */
  | { status: 'IN_PROGRESS' }
  | { status: 'DONE'; response: StoredResponse };

/**
 * Idempotency keys (IETF httpapi Idempotency-Key draft), per client: the first request with a key
 * runs and its answer is kept; a retry with the same key and request gets that answer. Each
 * operation is one atomic step, shared by the replicas. Implementations: Redis (production) and
 * memory (embedded mode), held to one contract test. The key itself is stored only as a hash and
 * the response only sealed (it may carry a secret: a new device's, recovery codes).
 */
export abstract class IdempotencyStore {
  /**
   * Starts a request under a key, unless it is known: then says how it stands. `userId`: the user
   * whose path the request is on (/v1/users/{userId}/…), so that erasing them forgets the key.
   */
  abstract begin(clientId: string, key: string, fingerprint: string, runningMs: number, userId?: string): Promise<BeginOutcome>;
  /**
   * Keeps the answer of the run that began this key, for `keepMs`. False when that run no longer
   * holds the key (it ran longer than `runningMs` and the key was taken again). `userId` as begun.
   */
  abstract complete(clientId: string, key: string, run: string, response: StoredResponse, keepMs: number, userId?: string): Promise<boolean>;
  /** Forgets a key whose run gave no answer worth replaying (an outage, "retry later"). */
  abstract abandon(clientId: string, key: string, run: string): Promise<void>;
  /** Erasing a user: forgets every key of this client begun on their paths (a retry then runs afresh). */
  abstract eraseUser(clientId: string, userId: string): Promise<void>;
  abstract close(): Promise<void>;

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
