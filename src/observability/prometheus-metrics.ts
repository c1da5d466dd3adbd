import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type DependencyName, Metrics, type RegistrationEvent, type ScrapeSources, type VerificationOutcome } from './metrics.js';

// OpenTelemetry's advice for http.server.request.duration and db.client.operation.duration (seconds).
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const DB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * The metrics in Prometheus form (prom-client), one registry per application instance. HTTP and
 * database names and labels follow OpenTelemetry's semantic conventions
 * (http.server.request.duration → http_server_request_duration_seconds, with http_request_method,
 * http_route, http_response_status_code; db.client.operation.duration with db_system_name,
 * db_operation_name, error_type; db.client.connection.*); the service's own families start with totp_.
 */
export class PrometheusMetrics extends Metrics {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly grants = this.counter('totp_token_grants_total', 'Access tokens issued (client-credentials grant).');
  private readonly tokenFailures = this.counter('totp_token_failures_total', 'Token requests refused, by OAuth error code.', ['reason']);
  private readonly registrations = this.counter(
    'totp_registrations_total',
    'Pending registrations by what happened to them: created, activated, expired, exhausted (too many wrong codes), deleted.',
    ['event'],
  );
  private readonly verifications = this.counter(
    'totp_verifications_total',
    'Codes decided against a device: ok, invalid, replay (a step already used), locked (refused, the device is locked).',
    ['outcome'],
  );
  private readonly lockouts = this.counter('totp_lockouts_total', 'Locks set: a device (verification failures) or a user (recovery codes).', [
    'kind',
  ]);
  private readonly dbDuration = new Histogram({
    name: 'db_client_operation_duration_seconds',
    help: 'Duration of Postgres statements and Redis commands (OpenTelemetry db.client.operation.duration).',
    labelNames: ['db_system_name', 'db_operation_name', 'error_type'],
    buckets: DB_BUCKETS,
    registers: [this.registry],
  });
  private readonly dependencyErrors = this.counter(
    'totp_dependency_errors_total',
    'Failed calls to Postgres or Redis (outages, timeouts, refused connections and statement errors), by error type.',
    ['db_system_name', 'error_type'],
  );
  private readonly batchSize = new Histogram({
    name: 'totp_db_batch_size',
    help: 'Requests that shared one batched statement.',
    labelNames: ['statement'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  private readonly batchWait = new Histogram({
    name: 'totp_db_batch_queue_wait_seconds',
    help: 'Time a request waited for its batched statement to start.',
    labelNames: ['statement'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
    registers: [this.registry],
  });

  constructor() {
    super();
    // Process metrics, heap, GC and event-loop lag (nodejs_eventloop_lag_seconds and percentiles).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  override get enabled(): boolean {
    return true;
  }

  override httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.labels(KNOWN_METHODS.has(method) ? method : '_OTHER', route, String(status)).observe(seconds);
  }
  override tokenGranted(): void {
    this.grants.inc();
  }
  override tokenFailed(reason: string): void {
    this.tokenFailures.labels(reason).inc();
  }
  override registration(event: RegistrationEvent, count = 1): void {
    this.registrations.labels(event).inc(count);
  }
  override verification(outcome: VerificationOutcome): void {
    this.verifications.labels(outcome).inc();
  }
  override lockout(kind: 'device' | 'user'): void {
    this.lockouts.labels(kind).inc();
  }
  override dependencyCall(system: DependencyName, operation: string, seconds: number, errorType?: string): void {
    if (errorType === undefined) {
      this.dbDuration.labels(system, operation, '').observe(seconds);
      return;
    }
    this.dbDuration.labels(system, operation, errorType).observe(seconds);
    this.dependencyErrors.labels(system, errorType).inc();
  }
  override batch(statement: string, size: number, waitsSeconds: number[]): void {
    this.batchSize.labels(statement).observe(size);
    const wait = this.batchWait.labels(statement);
    for (const seconds of waitsSeconds) wait.observe(seconds);
  }

  override observe(sources: ScrapeSources): void {
    const { pool, dependencies, pendingRegistrations } = sources;
    if (pool !== undefined) this.observePool(pool);
    if (dependencies !== undefined) {
      this.gauge(
        'totp_dependency_up',
        'Whether Postgres and Redis answer (1) or not (0), checked at scrape time as readiness does.',
        ['dependency'],
        async (g) => {
          for (const [name, up] of Object.entries(await dependencies())) g.labels(name).set(up ? 1 : 0);
        },
      );
    }
    if (pendingRegistrations !== undefined) {
      this.gauge('totp_pending_registrations', 'Pending registrations not yet activated, expired or deleted (all clients).', [], async (g) => {
        g.set(await pendingRegistrations());
      });
    }
  }

  override async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private observePool(pool: NonNullable<ScrapeSources['pool']>): void {
    this.gauge(
      'db_client_connection_count',
      'Postgres connections of the primary pool, by state (idle, used).',
      ['db_client_connection_state'],
      (g) => {
        const { total, idle } = pool();
        g.labels('idle').set(idle);
        g.labels('used').set(total - idle);
      },
    );
    this.gauge('db_client_connection_max', 'Most connections the primary pool opens (DB_POOL_SIZE).', [], (g) => g.set(pool().max));
    this.gauge('db_client_connection_pending_requests', 'Callers waiting for a Postgres connection.', [], (g) => g.set(pool().waiting));
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A gauge read at scrape time. A source that fails (Postgres or Redis down) leaves this gauge
   * without a value (NaN) for that scrape; it never fails the scrape, which must keep answering during
   * an outage (totp_dependency_up says 0 then).
   */
  private gauge(name: string, help: string, labelNames: string[], collect: (g: Gauge) => void | Promise<void>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        try {
          await collect(this);
        } catch {
          this.reset();
          // An unlabelled gauge always shows a sample: NaN, not a made-up 0.
          if (labelNames.length === 0) this.set(NaN);
        }
      },
    });
  }
}
