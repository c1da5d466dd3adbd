import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { hashClientSecret } from '../../src/auth/client-secret.js';
import { tracingRequested } from '../../src/observability/tracing.js';
import { startEmbedded, stop } from '../support/embedded.js';
import { createEnvironment, destroyEnvironment, REDIS_URL, type TestEnvironment } from '../support/harness.js';
import { freePort, ServiceProcess } from '../support/processes.js';
import { ResponseCheck } from '../support/response-check.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}
interface OtlpExport {
  resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }>;
}
type Span = OtlpSpan & { scope: string };

/** An OTLP/HTTP receiver (JSON encoding) that keeps every span it is sent. */
class OtlpReceiver {
  readonly spans: Span[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const resource of body.resourceSpans)
          for (const scoped of resource.scopeSpans) for (const span of scoped.spans) this.spans.push({ ...span, scope: scoped.scope.name });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The spans of a trace, once `ready` holds for them (spans are exported in batches). */
  async trace(traceId: string, ready: (spans: Span[]) => boolean): Promise<Span[]> {
    for (let i = 0; i < 100; i++) {
      const spans = this.spans.filter((s) => s.traceId === traceId);
      if (ready(spans)) return spans;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const attribute = (span: Span, key: string) => span.attributes.find((a) => a.key === key)?.value;

describe('OpenTelemetry traces (OTLP) and trace ids in logs', () => {
  let env: TestEnvironment;
  let receiver: OtlpReceiver;
  let service: ServiceProcess;
  const clientId = randomUUID();
  const clientSecret = randomBytes(32).toString('base64url');

  before(async () => {
    env = await createEnvironment();
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    service = new ServiceProcess(await freePort(), {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL,
      ENCRYPTION_KEY: env.encryptionKey,
      REDIS_KEY_PREFIX: env.redisKeyPrefix,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await service.start();
    const db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    await db.query('INSERT INTO oauth_clients (id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)', [
      clientId,
      'traces',
      hashClientSecret(clientSecret),
      ['devices:write', 'devices:read', 'otp:verify'],
    ]);
    await db.end();
  });
  after(async () => {
    await service.terminate();
    await receiver.close();
    await destroyEnvironment(env);
  });

  it('continues an incoming traceparent: the request span is its child, and pg and redis calls are children of the request', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const traceparent = `00-${traceId}-${parentId}-01`;
    const responses = new ResponseCheck(service.url);
    const tokenResponse = await responses.fetch('/oauth/token', {
      method: 'POST',
      headers: { traceparent },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });
    assert.equal(tokenResponse.status, 200);
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const created = await responses.fetch('/v1/users/ada/devices', {
      method: 'POST',
      headers: { traceparent, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceType: 'TOTP', deviceName: 'Traced phone', accountName: 'ada' }),
    });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };

    const spans = await receiver.trace(
      traceId,
      (s) => s.filter((x) => x.kind === 2 && x.parentSpanId === parentId).length >= 2 && s.some((x) => x.scope.includes('redis')),
    );
    const servers = spans.filter((s) => s.kind === 2 && s.parentSpanId === parentId);
    assert.equal(servers.length, 2, `two server spans continue the incoming trace: ${spans.map((s) => s.name).join(', ')}`);
    const create = servers.find((s) => attribute(s, 'http.route')?.stringValue === '/v1/users/:userId/devices');
    assert.ok(create !== undefined, 'the server span names its route template');
    assert.equal(create.name, 'POST /v1/users/:userId/devices');
    const children = spans.filter((s) => s.parentSpanId !== parentId);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const child of children) assert.ok(ids.has(child.parentSpanId!), `${child.name} has its parent in the trace`);
    const pgSpans = children.filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
    const redisSpans = children.filter((s) => s.scope === '@opentelemetry/instrumentation-redis');
    assert.ok(pgSpans.length >= 2, `pg spans: ${pgSpans.length}`);
    assert.ok(redisSpans.length >= 1, `redis spans: ${redisSpans.length}`);
    assert.ok(
      pgSpans.every((s) => attribute(s, 'db.system')?.stringValue === 'postgresql' || attribute(s, 'db.system.name')?.stringValue === 'postgresql'),
    );
    assert.ok(redisSpans.some((s) => /EVALSHA|evalsha/.test(s.name)));
    // Nothing secret in any span: no statement parameters, no script arguments.
    const exported = JSON.stringify(spans);
    for (const text of [clientSecret, secret, token]) assert.ok(!exported.includes(text), 'a secret is in a span');

    // Every log line of those requests carries the trace id.
    const lines = service.output.split('\n').filter((l) => l.includes(traceId));
    assert.ok(
      lines.some((l) => l.includes('"msg":"access token issued"')),
      'the token log line has the trace id',
    );
    assert.equal(lines.filter((l) => l.includes('"msg":"request"')).length, 2, 'both request lines have the trace id');
    for (const line of lines) assert.equal((JSON.parse(line) as { trace_id: string }).trace_id, traceId);
    responses.assertNoProblems();
  });

  it('is off unless the standard variables ask for an exporter', () => {
    assert.equal(tracingRequested({}), false);
    assert.equal(tracingRequested({ OTEL_SERVICE_NAME: 'x' }), false);
    assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), false);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), true);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), true);
    assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
    assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }), false);
  });
});

describe('logs for people', () => {
  it('embedded mode with readable logs: one-line entries, no route-mapping lines, the banner last', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'totp-pretty-'));
    const running = await startEmbedded(dataDir, await freePort(), { LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const output = running.output();
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      const logLines = lines.filter((l) => /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] (INFO|WARN|ERROR|DEBUG)/.test(l));
      assert.ok(logLines.length >= 3, `readable log lines:\n${output}`);
      assert.ok(!lines.some((l) => l.startsWith('{')), 'no JSON lines');
      assert.ok(!output.includes('Mapped {'), 'no route-mapping lines');
      assert.match(logLines.find((l) => l.includes('service listening')) ?? '', /INFO.*TOTP device-registration service listening/);
      const banner = lines.findIndex((l) => l.includes('EMBEDDED MODE'));
      assert.ok(banner > lines.findIndex((l) => l.includes('service listening')), 'the banner comes after the log lines');
      assert.ok(
        lines.slice(banner).every((l) => !/^\[\d{2}:/.test(l)),
        'nothing is logged after the banner',
      );
    } finally {
      await stop(running);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
