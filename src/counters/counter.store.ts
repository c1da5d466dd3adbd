export interface WindowCount {
  count: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

export interface Reservation extends WindowCount {
  /** False when the count was already at the limit: nothing was counted, the caller is refused. */
  granted: boolean;
}

/**
 * Fixed-window counters shared by the replicas (rate limits, the client-authentication throttle).
 * Each operation reads and changes a counter in one atomic step. Implementations: Redis (production)
 * and memory (embedded mode, one process), held to one contract test.
 */
export abstract class CounterStore {
  /** Counts one event in a window that starts with the first event. */
  abstract hit(counter: string, windowMs: number): Promise<WindowCount>;
  /**
   * Counts one event only while the count is below `limit` (count first, then act): under any
   * concurrency at most `limit` callers are granted per window.
   */
  abstract reserve(counter: string, limit: number, windowMs: number): Promise<Reservation>;
  /**
   * Gives a reservation back (the reserved attempt turned out not to count: a right answer).
   * Never below zero; the window keeps its end.
   */
  abstract release(counter: string): Promise<void>;
  /** Deletes a counter, window and all (erasing the user it counts for). */
  abstract forget(counter: string): Promise<void>;
  /** The count as it is (0 with no window running). */
  abstract peek(counter: string): Promise<WindowCount>;
  abstract close(): Promise<void>;

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
