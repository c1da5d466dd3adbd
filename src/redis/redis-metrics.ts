import { ErrorReply } from 'redis';
import { type Metrics, NO_METRICS } from '../observability/metrics.js';

/**
 * A Redis command's duration and failure for db_client_operation_duration_seconds, when metrics are
 * on. A failure is typed by its reply's first word (READONLY, MOVED, NOSCRIPT, …), or `unavailable`.
 */
export function timed<T>(given: Metrics | undefined, command: string, call: Promise<T>): Promise<T> {
  const metrics = given ?? NO_METRICS;
  if (!metrics.enabled) return call;
  const started = performance.now();
  const operation = command.toUpperCase();
  const seconds = () => (performance.now() - started) / 1000;
  return call.then(
    (reply) => {
      metrics.dependencyCall('redis', operation, seconds());
      return reply;
    },
    (error: unknown) => {
      const type = error instanceof ErrorReply ? (/^[A-Z]+/.exec(error.message)?.[0] ?? 'ERR') : 'unavailable';
      metrics.dependencyCall('redis', operation, seconds(), type);
      throw error;
    },
  );
}
