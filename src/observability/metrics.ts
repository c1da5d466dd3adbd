/** What a verification decided for one device (a code checked against it, or refused unchecked). */
export type VerificationOutcome = 'ok' | 'invalid' | 'replay' | 'locked';
/** What happened to a pending registration. */
export type RegistrationEvent = 'created' | 'activated' | 'expired' | 'exhausted' | 'deleted';
export type DependencyName = 'postgresql' | 'redis';

/** Live figures read when Prometheus scrapes (pool usage, dependencies, the pending backlog). */
export interface ScrapeSources {
  pool?: () => { max: number; total: number; idle: number; waiting: number };
  dependencies?: () => Promise<Record<DependencyName, boolean>>;
  pendingRegistrations?: () => Promise<number>;
}

/**
 * What the service tells its operators, as calls in domain terms. This base class records nothing:
 * it is what runs with METRICS_PORT=0, so metrics that are off cost a call to an empty method.
 * PrometheusMetrics (prometheus-metrics.ts) is the real one. No call takes a user id or device id:
 * label values stay few (routes, outcomes, reasons).
 */
export class Metrics {
  get enabled(): boolean {
    return false;
  }
  /** One answered HTTP request: `route` is the route template (never the path with its ids). */
  httpRequest(_method: string, _route: string, _status: number, _seconds: number): void {}
  tokenGranted(): void {}
  /** `reason`: the OAuth error code answered (invalid_client, too_many_requests, temporarily_unavailable, …). */
  tokenFailed(_reason: string): void {}
  registration(_event: RegistrationEvent, _count = 1): void {}
  verification(_outcome: VerificationOutcome): void {}
  /** A device or a user was locked just now (not: a request refused because it already was). */
  lockout(_kind: 'device' | 'user'): void {}
  /** One call to Postgres or Redis; `errorType` when it failed (SQLSTATE class, reply prefix, `timeout`, …). */
  dependencyCall(_system: DependencyName, _operation: string, _seconds: number, _errorType?: string): void {}
  /** One batched statement: how many inputs shared it and how long each waited for it to start. */
  batch(_statement: string, _size: number, _waitsSeconds: number[]): void {}
  /** Registers what is read at scrape time. */
  observe(_sources: ScrapeSources): void {}
  /** The Prometheus text exposition and its content type. */
  scrape(): Promise<{ contentType: string; body: string }> {
    return Promise.resolve({ contentType: 'text/plain', body: '' });
  }
}

/** Records nothing: for code run without an application (the CLI, tests of one part). */
export const NO_METRICS = new Metrics();
