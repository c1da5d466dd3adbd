import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestApp, type TestApp } from '../support/harness.js';

const ROUTES = [
  '/oauth/token',
  '/v1/users/{userId}/devices',
  '/v1/users/{userId}/devices/{id}',
  '/v1/users/{userId}/devices/{id}/qr',
  '/v1/users/{userId}/devices/{id}/activate',
  '/v1/users/{userId}/devices/{id}/verify',
  '/v1/users/{userId}/verify',
  '/v1/users/{userId}/events',
  '/health/ready',
  '/.well-known/jwks.json',
];
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const segment = fc.oneof(
  fc.constantFrom('ada', 'x', '5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d', '', '..', '%00', '%2F', '%E2%82%AC', '%ZZ', 'a'.repeat(300)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.uuid().map(String),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=latin1',
  'garbage',
  undefined,
);
const body = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc
    .record(
      {
        deviceType: fc.oneof(
          fc.constant('TOTP'),
          fc.anything().map((v) => v),
        ),
        deviceName: fc.anything(),
        otp: fc.anything(),
        accountName: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.constantFrom(
    '{"otp":"123456"',
    '[]',
    'null',
    '0',
    '"x"',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    'x'.repeat(20_000),
    'grant_type=client_credentials&grant_type=x',
  ),
  fc.constant(undefined),
);

interface Case {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  body: string | undefined;
  auth: 'none' | 'valid' | 'garbage';
  garbageAuth: string;
  accept: string | undefined;
}

const requestCase: fc.Arbitrary<Case> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'),
  path: fc.tuple(fc.constantFrom(...ROUTES), segment, segment).map(([route, userId, id]) => route.replace('{userId}', userId).replace('{id}', id)),
  query: fc.oneof(
    fc.constant(''),
    fc.constantFrom('?limit=0', '?limit=5', '?limit=-1', '?limit=1e9', '?cursor=@@', '?cursor=MTI', '?limit=2&limit=3', '?access_token=x'),
    printable.map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
  ),
  contentType,
  body,
  auth: fc.constantFrom('none', 'valid', 'garbage'),
  garbageAuth: fc.oneof(printable, fc.constantFrom('Bearer ', 'Bearer a.b.c', 'Basic !!!', 'Basic Og==', 'bearer eyJhbGciOiJub25lIn0.e30.')),
  accept: fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('image/svg+xml', 'image/png;q=0.1, image/svg+xml', '*/*', 'text/html', 'image/svg+xml;q=abc'),
  ),
});

describe('bad input (property-based)', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let token: string;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', CLIENT_AUTH_MAX_FAILURES: '1000' });
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  it('never answers 5xx to thousands of generated requests, and every 4xx carries the error envelope', async () => {
    await fc.assert(
      fc.asyncProperty(requestCase, async (c) => {
        const headers: Record<string, string> = {};
        if (c.contentType !== undefined) headers['content-type'] = c.contentType;
        if (c.accept !== undefined) headers.accept = c.accept;
        if (c.auth === 'valid') headers.authorization = `Bearer ${token}`;
        if (c.auth === 'garbage') headers.authorization = c.garbageAuth;
        const hasBody = c.body !== undefined && c.method !== 'GET';
        const response = await app.fetch(`${c.path}${c.query}`, { method: c.method, headers, body: hasBody ? c.body : undefined });
        const text = await response.text();
        assert.ok(response.status < 500, `${c.method} ${c.path}${c.query} → ${response.status} ${text.slice(0, 300)}`);
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as Record<string, unknown>;
          if (c.path.startsWith('/oauth/token') && c.method === 'POST') {
            assert.equal(typeof parsed.error, 'string');
            assert.equal(typeof parsed.error_description, 'string');
          } else {
            assert.equal(parsed.status, 'FAILED', text);
            assert.match(String(parsed.code), /^[A-Z_]+$/);
            assert.equal(typeof parsed.message, 'string');
            assert.equal(typeof parsed.requestId, 'string');
          }
        }
      }),
      { numRuns: 3000 },
    );
    assert.equal((await app.fetch('/health/live')).status, 200, 'still alive');
  });
});
