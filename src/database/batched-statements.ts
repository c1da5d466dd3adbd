import { Batcher, settleEach } from '../common/batcher.js';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { isLockConflict, isRowError } from './database-errors.js';
import { type Metrics, NO_METRICS } from '../observability/metrics.js';

const MAX_BATCH = 128;

/**
 * Makes batched statements (common/batcher.ts) with the service's policy for them, in one place:
 * - the hot ones together hold at most pool size − 2 connections, so single statements always find
 *   one: each holds at most its part of them, (pool size − 2) / `sharedBy`, where `sharedBy` is how
 *   many hot statements its owner shares them among (others, like the audit insert, run one
 *   statement at a time);
 * - an input waits at most half a dependency timeout for its statement to start, then answers 503
 *   (with Postgres hung, a request is not held for one stuck statement after another);
 * - a statement that fails because of one row (a constraint, bad data: SQLSTATE 22/23) or a lock
 *   conflict with another replica's batch (40P01/40001) is re-run input by input, so each input gets
 *   its own outcome and no input fails because of a neighbour.
 */
export class BatchedStatements {
  constructor(private readonly settings: { poolSize: number; timeoutMs: number; metrics?: Metrics }) {}

  /** `name` labels the statement's batch size and queue wait in the metrics. */
  create<I, O>(
    name: string,
    run: (inputs: I[]) => Promise<O[]>,
    options: { key?: (input: I) => string; hot?: boolean; sharedBy?: number } = {},
  ): Batcher<I, O> {
    const { metrics = NO_METRICS } = this.settings;
    const queueTimeoutMs = Math.ceil(this.settings.timeoutMs / 2);
    const isolated = async (inputs: I[]) => {
      try {
        return await run(inputs);
      } catch (error) {
        if (inputs.length === 1 || !(isRowError(error) || isLockConflict(error))) throw error;
        return settleEach(inputs, async (input) => (await run([input]))[0]);
      }
    };
    return new Batcher(isolated, {
      maxBatch: MAX_BATCH,
      maxInFlight: options.hot === false ? 1 : Math.max(1, Math.floor((this.settings.poolSize - 2) / (options.sharedBy ?? 1))),
      key: options.key,
      queueTimeoutMs,
      queueTimeoutError: () => new DependencyUnavailableError('postgres', new Error(`no statement slot within ${queueTimeoutMs} ms`)),
      onBatch: metrics.enabled
        ? (size, waitsMs) =>
            metrics.batch(
              name,
              size,
              waitsMs.map((ms) => ms / 1000),
            )
        : undefined,
    });
  }
}
