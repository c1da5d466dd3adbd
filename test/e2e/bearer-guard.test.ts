import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { toLowS } from '../../src/auth/low-s.js';
import { parseEncryptionKeys } from '../../src/config/config.js';
import { SecretBox } from '../../src/totp/secret-box.js';
import { startApp, startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('bearer authentication on /v1 (RFC 6750)', () => {
  let app: App;
  let client: { clientId: string; clientSecret: string };
  let token: string;
  let kid: string;
  let privateKeyPem: string;
  let publicJwk: Record<string, string>;

  before(async () => {
    app = await startTestApp();
    client = await app.createClient('devices:read otp:verify');
    token = await app.token(client);
    const db = new pg.Client({ connectionString: app.env.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ kid: string; sealed_private_key: string; public_jwk: Record<string, string> }>('SELECT * FROM signing_keys');
    await db.end();
    kid = rows[0].kid;
    publicJwk = rows[0].public_jwk;
    privateKeyPem = new SecretBox(parseEncryptionKeys(app.env.encryptionKey, [])).open(rows[0].sealed_private_key, `signing-key:${kid}`).toString();
  });
  after(() => app.teardown());

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: 'http://localhost:3000',
    aud: 'totp-device-api',
    sub: client.clientId,
    scope: 'devices:read',
    iat: now(),
    exp: now() + 600,
    jti: 'j',
    ...over,
  });
  /** A token signed with the service's real key, so only the claim under test is wrong. */
  const forge = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', kid }) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${toLowS(sign('sha256', Buffer.from(input), { key: createPrivateKey(privateKeyPem), dsaEncoding: 'ieee-p1363' })).toString('base64url')}`;
  };
  const list = (authorization?: string, path = '/v1/users/ada/devices') =>
    app.call('GET', path, undefined, undefined, authorization === undefined ? {} : { authorization });

  it("accepts a valid token with the route's scope", async () => {
    assert.equal((await list(`Bearer ${token}`)).status, 200);
    assert.equal((await list(`Bearer ${forge(claims())}`)).status, 200, 'the forging helper makes valid tokens');
  });

  it('answers 401 with a bare Bearer challenge when there are no credentials', async () => {
    for (const authorization of [undefined, `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      const r = await list(authorization);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'UNAUTHORIZED');
      assert.equal(r.body.status, 'FAILED');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+"$/);
    }
  });

  it('never takes a token from the query string', async () => {
    const r = await list(undefined, `/v1/users/ada/devices?access_token=${token}`);
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.headers.get('www-authenticate') ?? '', /error=/);
  });

  const invalid: Array<[string, () => string]> = [
    ['garbage', () => 'not.a.token'],
    ['expired', () => forge(claims({ iat: now() - 7200, exp: now() - 3600 }))],
    ['wrong issuer', () => forge(claims({ iss: 'https://evil.example' }))],
    ['wrong audience', () => forge(claims({ aud: 'another-api' }))],
    ['issued in the future', () => forge(claims({ iat: now() + 3600, exp: now() + 7200 }))],
    ['alg none', () => `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims())}.`],
    [
      'HS256 keyed with the public key',
      () => {
        const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(claims())}`;
        return `${input}.${createHmac('sha256', JSON.stringify(publicJwk)).update(input).digest('base64url')}`;
      },
    ],
    ['unknown kid', () => forge(claims(), { alg: 'ES256', typ: 'at+jwt', kid: 'other' })],
    [
      'tampered payload',
      () => {
        const [h, , s] = token.split('.');
        return `${h}.${b64(claims({ scope: 'devices:read devices:write' }))}.${s}`;
      },
    ],
    ['tampered signature', () => `${token.slice(0, -4)}AAAA`],
  ];
  for (const [name, make] of invalid) {
    it(`answers 401 invalid_token for a token that is ${name}`, async () => {
      const r = await list(`Bearer ${make()}`);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'INVALID_TOKEN');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+", error="invalid_token"/);
    });
  }

  it('answers 403 insufficient_scope naming the scope the route needs', async () => {
    const r = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: 'x' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'INSUFFICIENT_SCOPE');
    assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="devices:write"/);
  });

  it('accepts a token issued by one instance on another instance sharing the database', async () => {
    const second = await startApp(app.env);
    try {
      const fromSecond = await second.token(client);
      assert.equal((await list(`Bearer ${fromSecond}`)).status, 200);
      const r = await second.call('GET', '/v1/users/ada/devices', token);
      assert.equal(r.status, 200);
    } finally {
      await second.close();
    }
  });
});
