import type { LoginDecision, LoginRequest } from './login-request.js';

export type ClaimOutcome =
  | { status: 'CLAIMED'; request: LoginRequest; token: string }
  /** Decided, failed or expired: nothing to claim. */
  | { status: 'CLOSED'; request: LoginRequest }
  | { status: 'BUSY' }
  | { status: 'NOT_FOUND' };

/** DECIDED: this call decided it (or failed it, at the last wrong response); COUNTED: a wrong response, counted. */
export type SettleOutcome = { status: 'DECIDED' | 'COUNTED' | 'EXPIRED' | 'CLOSED'; request: LoginRequest } | { status: 'NOT_FOUND' };
export type RedeemOutcome = { status: 'REDEEMED' | 'REFUSED'; request: LoginRequest } | { status: 'NOT_FOUND' };

/**
 * Login requests (API.md §11), shared by the replicas and expiring by themselves. Every change is
 * one atomic step, and every decision is announced to the waiters of every replica. The
 * implementations (Redis with pub/sub; memory for the embedded mode) are held to one contract test.
 */
export abstract class LoginRequestStore {
  /** Stores a new request, kept `keepMs` (its lifetime and then a while, so its outcome can be read). */
  abstract create(request: LoginRequest, keepMs: number): Promise<void>;
  /** The request, if it exists for this client and user. */
  abstract get(clientId: string, userId: string, requestId: string): Promise<LoginRequest | undefined>;
  /**
   * Takes the decision lock for `lockMs` when the request is pending: one response is checked at
   * a time per request, so every wrong one is counted before the next is checked.
   */
  abstract claim(clientId: string, userId: string, requestId: string, nowMs: number, lockMs: number): Promise<ClaimOutcome>;
  /** Decides a pending request (not after its expiry) and releases the lock. */
  abstract decide(
    clientId: string,
    requestId: string,
    token: string,
    decision: LoginDecision,
    deviceId: string,
    nowMs: number,
  ): Promise<SettleOutcome>;
  /** Counts a wrong response and releases the lock; at `maxFailures` the request is FAILED. */
  abstract fail(clientId: string, requestId: string, token: string, maxFailures: number, nowMs: number): Promise<SettleOutcome>;
  /** Releases the lock without counting (the check could not complete). */
  abstract release(clientId: string, requestId: string, token: string): Promise<void>;
  /** Erasing a user: deletes every request of theirs for this client, whatever its state. */
  abstract eraseUser(clientId: string, userId: string): Promise<void>;
  /** Marks an approved request redeemed, once. */
  abstract redeem(clientId: string, userId: string, requestId: string, nowMs: number): Promise<RedeemOutcome>;
  /**
   * Starts listening for changes of one request. Call before reading it, then wait on `done`:
   * a change announced between the read and the wait is not missed.
   */
  abstract watch(clientId: string, requestId: string): Promise<{ done: (timeoutMs: number) => Promise<void>; cancel: () => void }>;
  /** Ends every wait now (at shutdown): long-polls answer with what they have. */
  abstract wakeAll(): void;
  abstract close(): Promise<void>;

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
