/**
 * Counts what is in flight per key on this replica and refuses beyond a maximum. Used for
 * verification: with at most LOCKOUT_THRESHOLD failures decidable before a device locks, more
 * attempts in flight for one device (or one user) can only be refused, so they are refused at once
 * instead of queueing for the database (where a flood would turn into 503s for everyone).
 */
export class InFlightGate {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Runs `work` if fewer than `max` are in flight under `key`; otherwise returns undefined at once. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T | undefined> {
    const current = this.counts.get(key) ?? 0;
    if (current >= this.max) return undefined;
    this.counts.set(key, current + 1);
    try {
      return await work();
    } finally {
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    }
  }
}
