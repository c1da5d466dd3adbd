import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { AuditService } from '../../src/audit/audit.service.js';
import { Database } from '../../src/database/database.js';
import { Metrics } from '../../src/observability/metrics.js';
import { MetricsEndpoint } from '../../src/observability/observability.module.js';
import { freePort, startTestApp, type TestApp } from '../support/harness.js';
import { Scrape, selectorsOf } from '../support/prometheus.js';

type App = TestApp & { teardown(): Promise<void> };
const root = join(import.meta.dirname, '..', '..', '..');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const USER = 'metrics-user-7f3a';

describe('GET /metrics (Prometheus) after a scripted flow', () => {
  let app: App;
  let metricsUrl: string;
  let scrape: Scrape;
  const get = async () => {
    const response = await fetch(metricsUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return new Scrape(await response.text());
  };

  before(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    app = await startTestApp({
      METRICS_PORT: String(port),
      ACTIVATION_MAX_ATTEMPTS: '2',
      LOCKOUT_THRESHOLD: '3',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
    });
    // Token requests: one grant, one wrong secret, one unsupported grant type.
    const { token, credentials } = await app.clientWithToken();
    const form = (fields: Record<string, string>) => app.fetch('/oauth/token', { method: 'POST', body: new URLSearchParams(fields) });
    assert.equal((await form({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: 'x'.repeat(43) })).status, 401);
    assert.equal((await form({ grant_type: 'password', client_id: credentials.clientId, client_secret: credentials.clientSecret })).status, 400);

    // Registrations: four created; one activated, one exhausted (2 wrong codes), one deleted, one left pending.
    const created = [];
    for (let i = 0; i < 4; i++) {
      const r = await app.call('POST', `/v1/users/${USER}/devices`, token, { deviceType: 'TOTP', deviceName: `Phone ${i}`, accountName: 'ada' });
      assert.equal(r.status, 201);
      created.push({ authId: r.body.authId as string, secret: r.body.secret as string });
    }
    const [active, exhausted, deleted] = created;
    const activation = app.code(active.secret);
    assert.equal((await app.call('POST', `/v1/users/${USER}/devices/${active.authId}/activate`, token, { otp: activation })).status, 200);
    for (const status of [400, 429])
      assert.equal(
        (await app.call('POST', `/v1/users/${USER}/devices/${exhausted.authId}/activate`, token, { otp: app.wrongCode(exhausted.secret) })).status,
        status,
      );
    assert.equal((await app.call('DELETE', `/v1/users/${USER}/devices/${deleted.authId}`, token)).status, 204);

    // Verifications: a replay (the activation's code), one ok, three wrong (the third locks), one refused while locked.
    const verify = (otp: string) => app.call('POST', `/v1/users/${USER}/devices/${active.authId}/verify`, token, { otp });
    assert.equal((await verify(activation)).status, 400);
    app.clock.advance(30_000);
    assert.equal((await verify(app.code(active.secret))).status, 200);
    for (const status of [400, 400, 429]) assert.equal((await verify(app.wrongCode(active.secret))).status, status);
    assert.equal((await verify(app.wrongCode(active.secret))).status, 429);

    // A statement Postgres refuses: counted as a dependency error with its SQLSTATE.
    await assert.rejects(app.app.get(Database).query('SELECT 1 / 0', []));
    scrape = await get();
  });
  after(() => app.teardown());

  it('counts token grants and failures by reason', () => {
    assert.equal(scrape.value('totp_token_grants_total'), 1);
    assert.equal(scrape.value('totp_token_failures_total', { reason: 'invalid_client' }), 1);
    assert.equal(scrape.value('totp_token_failures_total', { reason: 'unsupported_grant_type' }), 1);
  });

  it('counts registrations created, activated, exhausted and deleted, and the pending backlog', () => {
    for (const [event, n] of [
      ['created', 4],
      ['activated', 1],
      ['exhausted', 1],
      ['deleted', 1],
    ] as const)
      assert.equal(scrape.value('totp_registrations_total', { event }), n, event);
    assert.equal(scrape.value('totp_pending_registrations'), 1);
  });

  it('counts verifications by outcome and the lockout', () => {
    for (const [outcome, n] of [
      ['ok', 1],
      ['replay', 1],
      ['invalid', 3],
      ['locked', 1],
    ] as const)
      assert.equal(scrape.value('totp_verifications_total', { outcome }), n, outcome);
    assert.equal(scrape.value('totp_lockouts_total', { kind: 'device' }), 1);
  });

  it('times HTTP requests by route template, method and status, with OpenTelemetry names and no ids in labels', () => {
    const route = '/v1/users/:userId/devices';
    assert.equal(
      scrape.value('http_server_request_duration_seconds_count', {
        http_route: route,
        http_request_method: 'POST',
        http_response_status_code: '201',
      }),
      4,
    );
    assert.equal(scrape.value('http_server_request_duration_seconds_count', { http_route: '/oauth/token', http_response_status_code: '401' }), 1);
    assert.equal(scrape.types.get('http_server_request_duration_seconds'), 'histogram');
    for (const sample of scrape.samples)
      for (const value of Object.values(sample.labels)) {
        assert.doesNotMatch(value, UUID, `${sample.name} has an id in a label`);
        assert.ok(!value.includes(USER), `${sample.name} has the user id in a label`);
      }
  });

  it('times Postgres and Redis calls and counts their errors', () => {
    assert.ok(scrape.value('db_client_operation_duration_seconds_count', { db_system_name: 'postgresql', error_type: '' }) > 10);
    assert.ok(scrape.value('db_client_operation_duration_seconds_count', { db_system_name: 'redis', db_operation_name: 'EVALSHA' }) > 5);
    assert.equal(scrape.value('totp_dependency_errors_total', { db_system_name: 'postgresql', error_type: '22012' }), 1);
    assert.equal(scrape.value('totp_dependency_up', { dependency: 'postgresql' }), 1);
    assert.equal(scrape.value('totp_dependency_up', { dependency: 'redis' }), 1);
  });

  it('shows batch sizes and queue waits of the batched statements, and the pool', () => {
    for (const statement of ['device_attempt', 'device_activation', 'registration_admission']) {
      assert.ok(scrape.value('totp_db_batch_size_count', { statement }) >= 1, statement);
      assert.ok(scrape.value('totp_db_batch_queue_wait_seconds_count', { statement }) >= 1, statement);
    }
    assert.equal(scrape.value('db_client_connection_max'), 10);
    assert.ok(scrape.value('db_client_connection_count', { db_client_connection_state: 'idle' }) >= 1);
    assert.equal(scrape.find('db_client_connection_pending_requests').length, 1);
  });

  it('exports event-loop lag and process metrics', () => {
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ])
      assert.equal(scrape.find(name).length, 1, name);
  });

  it('counts expired registrations when the sweep records them', async () => {
    app.clock.advance(601_000);
    await app.app.get(AuditService).sweepExpiries();
    const later = await get();
    assert.equal(later.value('totp_registrations_total', { event: 'expired' }), 1);
    assert.equal(later.value('totp_pending_registrations'), 0);
  });

  it('is not served on the public port', async () => {
    // Plain fetch: the API's document rightly has no /metrics.
    assert.equal((await fetch(`${app.url}/metrics`)).status, 404);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/'))).status, 404);
  });

  it('the Grafana dashboard and the Prometheus alert rules read only metrics and labels the service exports', () => {
    const names = scrape.names;
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/dashboards/totp-service.json'), 'utf8')) as {
      uid: string;
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    const rules = parse(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
      groups: Array<{
        name: string;
        rules: Array<{ alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string } }>;
      }>;
    };
    const expressions = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ];
    assert.ok(
      dashboard.panels.filter((p) => p.type !== 'row').every((p) => (p.targets ?? []).length > 0),
      'every panel has a query',
    );
    for (const { where, expr } of expressions) {
      const selectors = selectorsOf(expr);
      assert.ok(selectors.length > 0, `${where}: reads no metric`);
      for (const { name, labels } of selectors) {
        if (name === 'up') continue; // Prometheus's own series for each target
        assert.ok(names.has(name), `${where}: ${name} is not exported`);
        for (const label of labels) assert.ok(scrape.labelsOf(name).has(label), `${where}: ${name} has no label ${label}`);
      }
    }
    const alerts = rules.groups.flatMap((g) => g.rules);
    for (const rule of alerts) {
      assert.match(rule.labels.severity, /^(page|warn)$/, rule.alert);
      assert.ok(rule.annotations.summary.length > 0, rule.alert);
      if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, rule.alert);
    }
    const covered = alerts.map((r) => r.expr).join('\n');
    for (const family of [
      'http_server_request_duration_seconds_count',
      'http_server_request_duration_seconds_bucket',
      'totp_lockouts_total',
      'totp_dependency_up',
      'totp_pending_registrations',
    ])
      assert.ok(covered.includes(family), `an alert reads ${family}`);
  });
});

describe('METRICS_PORT=0', () => {
  it('turns metrics off: nothing listens and nothing is recorded', async () => {
    const app = await startTestApp({ METRICS_PORT: '0' });
    try {
      const endpoint = app.app.get(MetricsEndpoint);
      assert.equal(endpoint.server.port, undefined);
      const { token } = await app.clientWithToken();
      assert.equal((await app.call('GET', '/v1/users/nobody/devices', token)).status, 200);
      const metrics = app.app.get(Metrics);
      assert.equal(metrics.enabled, false);
      assert.equal((await metrics.scrape()).body, '');
    } finally {
      await app.teardown();
    }
  });
});
