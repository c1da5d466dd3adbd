import type { StoredResponse } from '../common/replayed-response.js';

export type { StoredResponse };

export type BeginOutcome =
  | { status: 'STARTED' }
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
  /** Starts a request under a key, unless it is known: then says how it stands. */
  abstract begin(clientId: string, key: string, fingerprint: string, runningMs: number): Promise<BeginOutcome>;
  /** Keeps the answer of the request that began under this key (and fingerprint), for `keepMs`. */
  abstract complete(clientId: string, key: string, fingerprint: string, response: StoredResponse, keepMs: number): Promise<void>;
  /** Forgets a key whose request gave no answer worth replaying (an outage, "retry later"). */
  abstract abandon(clientId: string, key: string, fingerprint: string): Promise<void>;
  abstract close(): Promise<void>;

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
