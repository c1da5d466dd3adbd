import type { HashAlgorithm } from '../config/config.js';

/** A registration waiting for its first OTP. The secret is sealed (totp/secret-box.ts). */
export interface PendingRegistration {
  authId: string;
  clientId: string;
  userId: string;
  deviceType: 'TOTP';
  deviceName: string;
  accountName: string;
  sealedSecret: string;
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: number;
  /** The client's policy when it was created (absent in registrations from before policies: the service's). */
  window?: number;
  issuer?: string;
  createdAt: number;
  expiresAt: number;
}

export type CreateOutcome = 'OK' | 'USER_LIMIT' | 'CLIENT_LIMIT';
export type ClaimOutcome = { status: 'OK'; registration: PendingRegistration; failures: number } | { status: 'NOT_FOUND' } | { status: 'BUSY' };
export type RemoveOutcome = 'REMOVED' | 'NOT_FOUND' | 'BUSY';
export type FailureOutcome = { status: 'REMAINING'; remaining: number } | { status: 'EXHAUSTED' } | { status: 'NOT_FOUND' };

/**
 * Pending registrations (with their attempt counts and activation lock), shared by the replicas
 * and expiring by themselves. Every operation that reads and changes a registration does both in
 * one atomic step, so replicas never race each other. Implementations: Redis (production, several
 * replicas) and memory (embedded mode, one process), held to one contract test.
 */
export abstract class PendingStore {
  /** Adds a registration with its TTL unless the user or the client is at the pending limit. */
  abstract create(registration: PendingRegistration, limits: { perUser: number; perClient: number }): Promise<CreateOutcome>;
  abstract get(clientId: string, authId: string): Promise<PendingRegistration | undefined>;
  /** The user's live registrations, any order. */
  abstract listForUser(clientId: string, userId: string): Promise<PendingRegistration[]>;
  /**
   * Takes the activation lock for `lockMs` (one activation at a time per registration), so that
   * every OTP guess is counted before the next one is checked.
   */
  abstract claim(clientId: string, authId: string, lockMs: number): Promise<ClaimOutcome>;
  /** Counts a wrong OTP and releases the lock; at `maxAttempts` the registration is destroyed. */
  abstract recordFailure(clientId: string, userId: string, authId: string, maxAttempts: number): Promise<FailureOutcome>;
  /** Releases the activation lock without counting (the check could not complete). */
  abstract release(clientId: string, authId: string): Promise<void>;
  /** Renames a pending registration; false when it does not exist. */
  abstract rename(clientId: string, authId: string, deviceName: string): Promise<boolean>;
  /**
   * Deletes a registration of this user (another user's is NOT_FOUND). Refused (BUSY) while an
   * activation holds it, so a delete cannot race an activation into an active device nobody
   * wanted; `evenIfClaimed` is for the activation itself and for cleaning up after a device.
   */
  abstract remove(clientId: string, userId: string, authId: string, options?: { evenIfClaimed?: boolean }): Promise<RemoveOutcome>;
  /** How many of a client's registrations are live (the pending backlog, for metrics). */
  abstract countForClient(clientId: string): Promise<number>;
  /** Readiness: the store answers and takes writes. */
  abstract probe(): Promise<void>;
  abstract close(): Promise<void>;

  /** Nest lifecycle: the store closes after the HTTP server has drained. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
