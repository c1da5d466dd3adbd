import { CounterStore, type Reservation, type WindowCount } from './counter.store.js';

/** The embedded mode's counters: one process; each method runs to completion, which makes it atomic. */
export class MemoryCounterStore extends CounterStore {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(key);
  }

  private current(counter: string, windowMs: number): { count: number; resetAt: number } {
    const now = this.now();
    let entry = this.counters.get(counter);
    if (entry === undefined || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs };
      this.counters.set(counter, entry);
    }
    return entry;
  }

  override hit(counter: string, windowMs: number): Promise<WindowCount> {
    const entry = this.current(counter, windowMs);
    entry.count += 1;
    return Promise.resolve({ count: entry.count, resetInMs: entry.resetAt - this.now() });
  }

  override reserve(counter: string, limit: number, windowMs: number): Promise<Reservation> {
    const entry = this.current(counter, windowMs);
    const granted = entry.count < limit;
    if (granted) entry.count += 1;
    return Promise.resolve({ granted, count: entry.count, resetInMs: entry.resetAt - this.now() });
  }

  override release(counter: string): Promise<void> {
    const entry = this.counters.get(counter);
    if (entry !== undefined && entry.resetAt > this.now() && entry.count > 0) entry.count -= 1;
    return Promise.resolve();
  }

  override forget(counter: string): Promise<void> {
    this.counters.delete(counter);
    return Promise.resolve();
  }

  override peek(counter: string): Promise<WindowCount> {
    const entry = this.counters.get(counter);
    const now = this.now();
    return Promise.resolve(
      entry === undefined || entry.resetAt <= now ? { count: 0, resetInMs: 0 } : { count: entry.count, resetInMs: entry.resetAt - now },
    );
  }

  override close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
