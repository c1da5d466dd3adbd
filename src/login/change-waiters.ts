/**
 * Long-poll waiters of one replica, by key: wait() resolves when wake(key) is called or the time
 * is up, whichever comes first; wakeAll() ends every wait (at shutdown).
 */
export class ChangeWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Registers first (so a change announced from now on is not missed); `done` waits for it. */
  register(key: string): { done: (timeoutMs: number) => Promise<void>; cancel: () => void } {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(key) ?? new Set();
    set.add(wake);
    this.waiters.set(key, set);
    const cancel = () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    };
    const done = async (timeoutMs: number) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))))]);
      } finally {
        clearTimeout(timer);
        cancel();
      }
    };
    return { done, cancel };
  }

  wake(key: string): void {
    for (const wake of this.waiters.get(key) ?? []) wake();
  }

  wakeAll(): void {
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  get size(): number {
    return this.waiters.size;
  }
}
