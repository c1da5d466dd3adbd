import { randomUUID } from 'node:crypto';
import { type BeginOutcome, IdempotencyStore, type StoredResponse } from './idempotency.store.js';

interface Entry {
  fingerprint: string;
  run: string;
  userId: string | undefined;
  response: StoredResponse | undefined;
  until: number;
}

/** Idempotency keys in this process (embedded mode). Same contract as the Redis store; swept every 10 s. */
export class MemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly nowMs: () => number) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [id, entry] of this.entries) if (entry.until <= now) this.entries.delete(id);
  }

  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.until <= this.nowMs()) this.entries.delete(id);
    return this.entries.get(id);
  }

  override begin(clientId: string, key: string, fingerprint: string, runningMs: number, userId?: string): Promise<BeginOutcome> {
    const id = `${clientId}\u0000${key}`;
    const entry = this.live(id);
    if (entry === undefined) {
      const run = randomUUID();
      this.entries.set(id, { fingerprint, run, userId, response: undefined, until: this.nowMs() + runningMs });
      return Promise.resolve({ status: 'STARTED', run });
    }
    if (entry.fingerprint !== fingerprint) return Promise.resolve({ status: 'REUSED' });
    return Promise.resolve(entry.response === undefined ? { status: 'IN_PROGRESS' } : { status: 'DONE', response: entry.response });
  }

  override complete(clientId: string, key: string, run: string, response: StoredResponse, keepMs: number): Promise<boolean> {
    const entry = this.live(`${clientId}\u0000${key}`);
    if (entry?.run !== run || entry.response !== undefined) return Promise.resolve(false);
    Object.assign(entry, { response, until: this.nowMs() + keepMs });
    return Promise.resolve(true);
  }

  override abandon(clientId: string, key: string, run: string): Promise<void> {
    const id = `${clientId}\u0000${key}`;
    const entry = this.live(id);
    if (entry?.run === run && entry.response === undefined) this.entries.delete(id);
    return Promise.resolve();
  }

  override eraseUser(clientId: string, userId: string): Promise<void> {
    for (const [id, entry] of this.entries) if (id.startsWith(`${clientId}\u0000`) && entry.userId === userId) this.entries.delete(id);
    return Promise.resolve();
  }

  override close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
