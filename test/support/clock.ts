import { Clock } from '../../src/common/clock.js';

/**
 * The service's clock in tests: starts in the middle of a 30-second TOTP step (so a code computed
 * for "now" never straddles a step boundary) and moves only when a test moves it.
 */
export class TestClock extends Clock {
  private ms: number;

  constructor(start = Math.floor(Date.now() / 30_000) * 30_000 + 15_000) {
    super();
    this.ms = start;
  }

  override now(): Date {
    return new Date(this.ms);
  }

  override nowMs(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
