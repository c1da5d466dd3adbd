import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const decodeJwtPart = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString()) as Record<string, unknown>;

describe('POST /oauth/token (RFC 6749 §4.4 client credentials)', () => {
  let app: App;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    app = await startTestApp({ CLIENT_AUTH_MAX_FAILURES: '3', CLIENT_AUTH_BLOCK_SECONDS: '60' });
    client = await app.createClient('devices:write devices:read otp:verify');
  });
  after(() => app.teardown());

  async function tokenRequest(body: RequestInit['body'], headers: Record<string, string> = {}) {
    const response = await app.fetch('/oauth/token', { method: 'POST', body, headers });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  it('issues a token for client_secret_post with every onboarded scope when none is asked for', async () => {
    const r = await tokenRequest(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }));
    assert.equal(r.status, 200);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 3600);
    assert.equal(r.body.scope, 'devices:write devices:read otp:verify');
    assert.equal(r.body.refresh_token, undefined);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('pragma'), 'no-cache');
  });

  it('issues a signed ES256 JWT with kid, iss, aud, sub, scope, iat, exp and jti', async () => {
    const r = await tokenRequest(form({ grant_type: 'client_credentials', scope: 'otp:verify' }), {
      authorization: basic(client.clientId, client.clientSecret),
    });
    assert.equal(r.status, 200);
    const token = r.body.access_token as string;
    const header = decodeJwtPart(token, 0);
    const claims = decodeJwtPart(token, 1);
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    assert.equal(claims.iss, 'http://localhost:3000');
    assert.equal(claims.aud, 'totp-device-api');
    assert.equal(claims.sub, client.clientId);
    assert.equal(claims.scope, 'otp:verify');
    assert.equal((claims.exp as number) - (claims.iat as number), 3600);
    assert.match(claims.jti as string, /^[0-9a-f-]{36}$/);
    const jwks = (await (await app.fetch('/.well-known/jwks.json')).json()) as { keys: Array<Record<string, string>> };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid && k.alg === 'ES256' && k.kty === 'EC' && k.d === undefined));
  });

  it('accepts a JSON body', async () => {
    const r = await tokenRequest(
      JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(r.status, 200);
  });

  it('refuses Basic and body credentials together with invalid_request', async () => {
    const r = await tokenRequest(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }), {
      authorization: basic(client.clientId, client.clientSecret),
    });
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.body).sort(), ['error', 'error_description']);
    assert.equal(r.body.error, 'invalid_request');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  it('answers invalid_request without grant_type and for a repeated parameter', async () => {
    assert.equal((await tokenRequest(form({ client_id: client.clientId, client_secret: client.clientSecret }))).body.error, 'invalid_request');
    const repeated = `grant_type=client_credentials&grant_type=client_credentials&client_id=${client.clientId}&client_secret=${client.clientSecret}`;
    const r = await tokenRequest(repeated, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
  });

  it('answers unsupported_grant_type for other grants', async () => {
    const r = await tokenRequest(form({ grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unsupported_grant_type');
  });

  it('answers invalid_scope for a scope the client was not onboarded with, or an unknown one', async () => {
    const narrow = await app.createClient('otp:verify');
    for (const scope of ['devices:write', 'admin', '']) {
      const r = await tokenRequest(form({ grant_type: 'client_credentials', scope, client_id: narrow.clientId, client_secret: narrow.clientSecret }));
      assert.equal(r.status, 400, scope);
      assert.equal(r.body.error, 'invalid_scope');
    }
  });

  it('answers invalid_client 401 with a Basic challenge when Basic credentials are wrong', async () => {
    const r = await tokenRequest(form({ grant_type: 'client_credentials' }), {
      authorization: basic(client.clientId, 'wrong-secret'),
      'x-forwarded-for': '1',
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"$/);
  });

  it('answers invalid_client 401 without a challenge for wrong body credentials, an unknown client, or none', async () => {
    const other = await app.createClient('otp:verify');
    for (const body of [
      form({ grant_type: 'client_credentials', client_id: other.clientId, client_secret: 'nope' }),
      form({ grant_type: 'client_credentials', client_id: '2f1e0c4e-8a52-4a43-9d7e-1b1a9c0c1f00', client_secret: 'nope' }),
      form({ grant_type: 'client_credentials', client_id: 'not-a-uuid', client_secret: 'nope' }),
      form({ grant_type: 'client_credentials' }),
    ]) {
      const r = await tokenRequest(body);
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
      assert.equal(r.headers.get('www-authenticate'), null);
    }
  });

  it('answers unauthorized_client for a disabled client', async () => {
    const doomed = await app.createClient('otp:verify');
    await app.app.get((await import('../../src/auth/clients.service.js')).ClientsService).disable(doomed.clientId);
    const r = await tokenRequest(form({ grant_type: 'client_credentials', client_id: doomed.clientId, client_secret: doomed.clientSecret }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unauthorized_client');
  });

  it('throttles repeated failed authentication of one client with 429 and Retry-After, counted in Redis', async () => {
    const victim = await app.createClient('otp:verify');
    const bad = form({ grant_type: 'client_credentials', client_id: victim.clientId, client_secret: 'guess' });
    for (let i = 0; i < 3; i++) assert.equal((await tokenRequest(bad)).status, 401);
    const blocked = await tokenRequest(bad);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'too_many_requests');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // The right secret is never refused (issue 10 §7), and does not reopen the window for wrong ones.
    const right = await tokenRequest(form({ grant_type: 'client_credentials', client_id: victim.clientId, client_secret: victim.clientSecret }));
    assert.equal(right.status, 200);
    assert.equal((await tokenRequest(bad)).status, 429);
  });

  it('refuses a body over 16 KiB with 413', async () => {
    const r = await tokenRequest(form({ grant_type: 'client_credentials', padding: 'x'.repeat(17 * 1024) }));
    assert.equal(r.status, 413);
    assert.equal(r.body.error, 'invalid_request');
  });

  it('publishes RFC 8414 metadata', async () => {
    const metadata = (await (await app.fetch('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, 'http://localhost:3000');
    assert.equal(metadata.token_endpoint, 'http://localhost:3000/oauth/token');
    assert.deepEqual(metadata.grant_types_supported, ['client_credentials']);
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
  });
});
