import { randomUUID } from 'node:crypto';
import { ChangeWaiters } from './change-waiters.js';
import type { LoginDecision, LoginRequest } from './login-request.js';
import { type ClaimOutcome, LoginRequestStore, type RedeemOutcome, type SettleOutcome } from './login-request.store.js';

interface Entry {
  request: LoginRequest;
  keepUntil: number;
  lock: { token: string; until: number } | undefined;
}

/**
 * Login requests in this process (embedded mode: one process, nothing shared). Same contract as
 * the Redis store: every operation is synchronous between awaits, so each is atomic here.
 */
export class MemoryLoginRequestStore extends LoginRequestStore {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new ChangeWaiters();

  constructor(private readonly nowMs: () => number) {
    super();
  }

  private live(clientId: string, requestId: string): Entry | undefined {
    const key = `${clientId}:${requestId}`;
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.keepUntil <= this.nowMs()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [key, entry] of this.entries) if (entry.keepUntil <= now) this.entries.delete(key);
  }

  override create(request: LoginRequest, keepMs: number): Promise<void> {
    this.sweep();
    this.entries.set(`${request.clientId}:${request.requestId}`, { request: { ...request }, keepUntil: this.nowMs() + keepMs, lock: undefined });
    return Promise.resolve();
  }

  override get(clientId: string, userId: string, requestId: string): Promise<LoginRequest | undefined> {
    const entry = this.live(clientId, requestId);
    return Promise.resolve(entry?.request.userId === userId ? { ...entry.request } : undefined);
  }

  override claim(clientId: string, userId: string, requestId: string, nowMs: number, lockMs: number): Promise<ClaimOutcome> {
    const entry = this.live(clientId, requestId);
    if (entry?.request.userId !== userId) return Promise.resolve({ status: 'NOT_FOUND' });
    const request = { ...entry.request };
    if (request.state !== 'PENDING' || nowMs >= request.expiresAt) return Promise.resolve({ status: 'CLOSED', request });
    if (entry.lock !== undefined && entry.lock.until > nowMs) return Promise.resolve({ status: 'BUSY' });
    entry.lock = { token: randomUUID(), until: nowMs + lockMs };
    return Promise.resolve({ status: 'CLAIMED', request, token: entry.lock.token });
  }

  override decide(
    clientId: string,
    requestId: string,
    token: string,
    decision: LoginDecision,
    deviceId: string,
    nowMs: number,
  ): Promise<SettleOutcome> {
    return Promise.resolve(
      this.settle(clientId, requestId, token, nowMs, (r) => Object.assign(r, { state: decision, decidedBy: deviceId, decidedAt: nowMs })),
    );
  }

  override fail(clientId: string, requestId: string, token: string, maxFailures: number, nowMs: number): Promise<SettleOutcome> {
    return Promise.resolve(
      this.settle(clientId, requestId, token, nowMs, (r) => {
        r.failures += 1;
        if (r.failures < maxFailures) return 'COUNTED';
        Object.assign(r, { state: 'FAILED', decidedAt: nowMs });
      }),
    );
  }

  /** As the Redis script: a wrong response counts even past its lock; a decision needs the request pending. */
  private settle(clientId: string, requestId: string, token: string, nowMs: number, change: (r: LoginRequest) => unknown): SettleOutcome {
    const entry = this.live(clientId, requestId);
    if (entry === undefined) return { status: 'NOT_FOUND' };
    if (entry.lock?.token === token) entry.lock = undefined;
    const r = entry.request;
    if (r.state !== 'PENDING') return { status: 'CLOSED', request: { ...r } };
    if (nowMs >= r.expiresAt) return { status: 'EXPIRED', request: { ...r } };
    if (change(r) === 'COUNTED') return { status: 'COUNTED', request: { ...r } };
    this.waiters.wake(`${clientId}:${requestId}`);
    return { status: 'DECIDED', request: { ...r } };
  }

  override release(clientId: string, requestId: string, token: string): Promise<void> {
    const entry = this.live(clientId, requestId);
    if (entry?.lock?.token === token) entry.lock = undefined;
    return Promise.resolve();
  }

  override eraseUser(clientId: string, userId: string): Promise<void> {
    for (const [key, entry] of this.entries) if (entry.request.clientId === clientId && entry.request.userId === userId) this.entries.delete(key);
    return Promise.resolve();
  }

  override redeem(clientId: string, userId: string, requestId: string, nowMs: number): Promise<RedeemOutcome> {
    const entry = this.live(clientId, requestId);
    if (entry?.request.userId !== userId) return Promise.resolve({ status: 'NOT_FOUND' });
    const r = entry.request;
    if (r.state !== 'APPROVED' || r.redeemedAt !== null) return Promise.resolve({ status: 'REFUSED', request: { ...r } });
    r.redeemedAt = nowMs;
    return Promise.resolve({ status: 'REDEEMED', request: { ...r } });
  }

  override watch(clientId: string, requestId: string) {
    return Promise.resolve(this.waiters.register(`${clientId}:${requestId}`));
  }

  override wakeAll(): void {
    this.waiters.wakeAll();
  }

  override close(): Promise<void> {
    this.waiters.wakeAll();
    return Promise.resolve();
  }
}
