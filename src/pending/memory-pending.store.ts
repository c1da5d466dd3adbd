import {
  type ClaimOutcome,
  type CreateOutcome,
  type FailureOutcome,
  type PendingRegistration,
  PendingStore,
  type RemoveOutcome,
} from './pending.store.js';

interface Entry {
  registration: PendingRegistration;
  failures: number;
  lockedUntil: number;
}

/**
 * The embedded mode's store: one process, no Redis. Same semantics as the Redis store (TTL,
 * limits, activation lock, attempt counting), checked by the same contract tests. JavaScript runs
 * each method to completion between awaits, which gives the atomicity Redis gets from Lua.
 */
export class MemoryPendingStore extends PendingStore {
  private readonly registrations = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private key = (clientId: string, authId: string) => `${clientId}:${authId}`;

  private live(clientId: string, authId: string): Entry | undefined {
    const entry = this.registrations.get(this.key(clientId, authId));
    if (entry === undefined) return undefined;
    if (entry.registration.expiresAt <= this.now()) {
      this.registrations.delete(this.key(clientId, authId));
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.registrations) if (entry.registration.expiresAt <= now) this.registrations.delete(key);
  }

  private liveWhere(match: (r: PendingRegistration) => boolean): PendingRegistration[] {
    const now = this.now();
    return [...this.registrations.values()].filter((e) => e.registration.expiresAt > now && match(e.registration)).map((e) => e.registration);
  }

  override countForClient(clientId: string): Promise<number> {
    return Promise.resolve(this.liveWhere((r) => r.clientId === clientId).length);
  }

  override create(r: PendingRegistration, limits: { perUser: number; perClient: number }): Promise<CreateOutcome> {
    const forClient = this.liveWhere((x) => x.clientId === r.clientId);
    if (forClient.filter((x) => x.userId === r.userId).length >= limits.perUser) return Promise.resolve('USER_LIMIT');
    if (forClient.length >= limits.perClient) return Promise.resolve('CLIENT_LIMIT');
    this.registrations.set(this.key(r.clientId, r.authId), { registration: { ...r }, failures: 0, lockedUntil: 0 });
    return Promise.resolve('OK');
  }

  override get(clientId: string, authId: string): Promise<PendingRegistration | undefined> {
    const entry = this.live(clientId, authId);
    return Promise.resolve(entry === undefined ? undefined : { ...entry.registration });
  }

  override listForUser(clientId: string, userId: string): Promise<PendingRegistration[]> {
    return Promise.resolve(this.liveWhere((r) => r.clientId === clientId && r.userId === userId).map((r) => ({ ...r })));
  }

  override claim(clientId: string, authId: string, lockMs: number): Promise<ClaimOutcome> {
    const entry = this.live(clientId, authId);
    if (entry === undefined) return Promise.resolve({ status: 'NOT_FOUND' });
    if (entry.lockedUntil > this.now()) return Promise.resolve({ status: 'BUSY' });
    entry.lockedUntil = this.now() + lockMs;
    return Promise.resolve({ status: 'OK', registration: { ...entry.registration }, failures: entry.failures });
  }

  override recordFailure(clientId: string, userId: string, authId: string, maxAttempts: number): Promise<FailureOutcome> {
    const entry = this.live(clientId, authId);
    if (entry === undefined || entry.registration.userId !== userId) return Promise.resolve({ status: 'NOT_FOUND' });
    entry.failures += 1;
    if (entry.failures >= maxAttempts) {
      this.registrations.delete(this.key(clientId, authId));
      return Promise.resolve({ status: 'EXHAUSTED' });
    }
    entry.lockedUntil = 0;
    return Promise.resolve({ status: 'REMAINING', remaining: maxAttempts - entry.failures });
  }

  override release(clientId: string, authId: string): Promise<void> {
    const entry = this.live(clientId, authId);
    if (entry !== undefined) entry.lockedUntil = 0;
    return Promise.resolve();
  }

  override rename(clientId: string, authId: string, deviceName: string): Promise<boolean> {
    const entry = this.live(clientId, authId);
    if (entry !== undefined) entry.registration.deviceName = deviceName;
    return Promise.resolve(entry !== undefined);
  }

  override remove(clientId: string, userId: string, authId: string, options: { evenIfClaimed?: boolean } = {}): Promise<RemoveOutcome> {
    const entry = this.live(clientId, authId);
    if (entry === undefined || entry.registration.userId !== userId) return Promise.resolve('NOT_FOUND');
    if (options.evenIfClaimed !== true && entry.lockedUntil > this.now()) return Promise.resolve('BUSY');
    this.registrations.delete(this.key(clientId, authId));
    return Promise.resolve('REMOVED');
  }

  override probe(): Promise<void> {
    return Promise.resolve();
  }

  override close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
