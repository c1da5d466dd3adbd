/**
 * Where the service reads the time of day. Injected, so that tests can set and move it instead of
 * waiting for real time (STYLE: mock only the clock and randomness). Durations measured inside
 * performance machinery use the monotonic clock (performance.now) instead: they are not dates.
 */
export abstract class Clock {
  abstract now(): Date;

  nowMs(): number {
    return this.now().getTime();
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}

export class SystemClock extends Clock {
  override now(): Date {
    return new Date();
  }

  override nowMs(): number {
    return Date.now();
  }
}
