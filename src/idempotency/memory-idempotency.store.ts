import { type BeginOutcome, IdempotencyStore, type StoredResponse } from './idempotency.store.js';

interface Entry {
  fingerprint: string;
  response: StoredResponse | undefined;
  until: number;
}

/** Idempotency keys in this process (embedded mode). Same contract as the Redis store. */
export class MemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nowMs: () => number) {
    super();
  }

  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.until <= this.nowMs()) this.entries.delete(id);
    return this.entries.get(id);
  }

  override begin(clientId: string, key: string, fingerprint: string, runningMs: number): Promise<BeginOutcome> {
    const now = this.nowMs();
    for (const [id, entry] of this.entries) if (entry.until <= now) this.entries.delete(id);
    const id = `${clientId}\u0000${key}`;
    const entry = this.live(id);
    if (entry === undefined) {
      this.entries.set(id, { fingerprint, response: undefined, until: now + runningMs });
      return Promise.resolve({ status: 'STARTED' });
    }
    if (entry.fingerprint !== fingerprint) return Promise.resolve({ status: 'REUSED' });
    return Promise.resolve(entry.response === undefined ? { status: 'IN_PROGRESS' } : { status: 'DONE', response: entry.response });
  }

  override complete(clientId: string, key: string, fingerprint: string, response: StoredResponse, keepMs: number): Promise<void> {
    const entry = this.live(`${clientId}\u0000${key}`);
    if (entry?.fingerprint === fingerprint && entry.response === undefined) Object.assign(entry, { response, until: this.nowMs() + keepMs });
    return Promise.resolve();
  }

  override abandon(clientId: string, key: string, fingerprint: string): Promise<void> {
    const id = `${clientId}\u0000${key}`;
    const entry = this.live(id);
    if (entry?.fingerprint === fingerprint && entry.response === undefined) this.entries.delete(id);
    return Promise.resolve();
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }
}
