import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TokenSigner } from '../../src/auth/token-signer.js';
import { createEnvironment, destroyEnvironment, LogSink, REDIS_URL, startTestApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { sleep } from '../support/otp.js';
import { freePort, ServiceProcess } from '../support/processes.js';
import { rawBody, rawStatus } from '../support/raw-http.js';
import { ResponseCheck } from '../support/response-check.js';

type App = TestApp & { teardown(): Promise<void> };
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

const nested = (kind: 'array' | 'object', depth: number) =>
  kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** The same token with its ECDSA S replaced by n - S: the other of the two valid encodings. */
function flipS(token: string): { flipped: string; originalWasLow: boolean } {
  const [head, body, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const other = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return { flipped: `${head}.${body}.${Buffer.concat([bytes.subarray(0, 32), other]).toString('base64url')}`, originalWasLow: s <= P256_ORDER / 2n };
}

describe('request hardening (issue 10)', () => {
  const logs = new LogSink();
  let app: App;
  let token: string;
  before(async () => {
    app = await startTestApp(
      { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', REQUEST_TIMEOUT_MS: '1500', KEEP_ALIVE_TIMEOUT_MS: '1000', MAX_CONNECTIONS: '40', LOG_LEVEL: 'warn' },
      { logs },
    );
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  it('refuses deeply nested JSON with 400 VALIDATION_FAILED before transforming it (create and verify)', async () => {
    for (const body of [nested('array', 1400), nested('object', 2500), `{"otp":${nested('array', 40)}}`]) {
      for (const path of ['/v1/users/ada/devices', '/v1/users/ada/verify']) {
        const r = await app.call('POST', path, token, body);
        assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body).slice(0, 200)}`);
        assert.equal(r.body.code, 'VALIDATION_FAILED');
      }
    }
    // Moderate nesting inside strings does not count.
    const inString = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: '[[[[[[[[[[' });
    assert.equal(inString.status, 201);
  });

  it('refuses a JSON body that is not valid UTF-8 (400), accepts an empty chunked body without a type, and names an empty JSON body', async () => {
    for (const bytes of [
      Buffer.from('{"deviceType":"TOTP","deviceName":"caf\xe9"}', 'latin1'),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    ]) {
      const r = await app.fetch('/v1/users/ada/devices', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: bytes,
      });
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as { code: string }).code, 'VALIDATION_FAILED');
    }
    const head = `DELETE /v1/users/ada/devices/5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`;
    assert.equal(rawStatus((await app.responses.rawHttp([head], 3000)).response), 404, 'an empty chunked DELETE reaches the route');
    const empty = await app.call('POST', '/v1/users/ada/devices', token, '', { 'content-type': 'application/json' });
    assert.equal(empty.status, 400);
    assert.match(empty.body.message as string, /empty/i);
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE to form, text and non-UTF-8 bodies on JSON routes', async () => {
    const json = JSON.stringify({ deviceType: 'TOTP', deviceName: 'Phone' });
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'deviceType=TOTP&deviceName=Phone'],
      ['text/plain', json],
      ['application/json; charset=utf-16', json],
      ['application/json; charset=iso-8859-1', json],
    ]) {
      const r = await app.call('POST', '/v1/users/ada/devices', token, body, { 'content-type': type });
      assert.equal(r.status, 415, type);
      assert.equal(r.body.code, 'UNSUPPORTED_MEDIA_TYPE', type);
    }
    const utf8 = await app.call('POST', '/v1/users/ada/devices', token, json, { 'content-type': 'application/json; charset=UTF-8' });
    assert.equal(utf8.status, 201);
  });

  it('marks the create response, which carries the secret, Cache-Control: no-store', async () => {
    const r = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: 'Cache test' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  it('refuses the user ids "." and ".." (their QR URLs would not route)', async () => {
    const body = JSON.stringify({ deviceType: 'TOTP', deviceName: 'Phone' });
    // Sent raw: fetch would resolve the dot segments itself.
    for (const userId of ['.', '..', '%2E', '%2e%2E']) {
      const request = `POST /v1/users/${userId}/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
      const { response } = await app.responses.rawHttp([request], 3000);
      assert.equal(rawStatus(response), 400, `${userId}: ${response.slice(0, 200)}`);
      assert.equal(rawBody(response).code, 'VALIDATION_FAILED');
    }
  });

  it('refuses device names with line or paragraph separators and blank-rendering characters', async () => {
    for (const name of [
      'a\u2028b',
      'a\u2029b',
      '\u3164',
      'x\u3164',
      '\u2800',
      '\u115f\u1160',
      'a\u00a0b',
      'a\u200bb',
      'a\u202eb',
      'a\u{e0041}b',
      '\ufe0f',
    ]) {
      const r = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: name });
      assert.equal(r.status, 400, JSON.stringify(name));
      assert.equal(r.body.code, 'VALIDATION_FAILED');
    }
    for (const [i, name] of ['❤️ phone', 'Ada’s iPhone', 'Téléphone', '电话', '👨‍👩‍👧 family tablet', '1️⃣ keycap'].entries()) {
      const r = await app.call('POST', `/v1/users/names-${i}/devices`, token, { deviceType: 'TOTP', deviceName: name });
      assert.equal(r.status, 201, name);
    }
  });

  it("refuses a name that looks like one of the user's active devices (UTS #39 skeleton), at create and at activation", async () => {
    const userId = 'lookalike-user';
    const first = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'PayPal Phone' });
    const second = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Pay\u0420aI phone' });
    assert.equal(second.status, 201, 'both pending: nothing active to collide with yet');
    const activate = (r: typeof first) =>
      app.call('POST', `/v1/users/${userId}/devices/${r.body.authId as string}/activate`, token, { otp: app.code(r.body.secret as string) });
    assert.equal((await activate(first)).status, 200);
    const clash = await activate(second);
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'DEVICE_NAME_TAKEN');
    for (const name of ['paypal phone', 'PayPaI Phone', 'Pay\u0440al Phone', 'PayPal  Phone']) {
      const r = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
      assert.equal(r.status, 409, name);
      assert.equal(r.body.code, 'DEVICE_NAME_TAKEN', name);
    }
    assert.equal((await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'PayPal Tablet' })).status, 201);
  });

  it('cuts a request whose body does not arrive within REQUEST_TIMEOUT_MS, with a 408 in the envelope', async () => {
    const head = `POST /v1/users/ada/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const slow = await Promise.all(Array.from({ length: 10 }, () => app.responses.rawHttp([head, '{"deviceTy'], 6000)));
    for (const exchange of slow) {
      assert.ok(exchange.closedAfterMs !== undefined && exchange.closedAfterMs < 4000, `closed after ${exchange.closedAfterMs} ms`);
      assert.equal(rawStatus(exchange.response), 408);
      assert.equal(rawBody(exchange.response).code, 'REQUEST_TIMEOUT');
    }
  });

  it('logs no error and no outage when callers drop their connection mid-upload', async () => {
    const before = logs.lines.length;
    for (let i = 0; i < 5; i++) {
      const exchange = await app.responses.rawHttp(
        [
          `POST /v1/users/ada/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"dev`,
        ],
        100,
        true,
      );
      exchange.socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    const lines = logs.lines.slice(before).filter((l) => /"level":"(warn|error)"/.test(l));
    assert.deepEqual(lines, []);
  });

  it('closes idle keep-alive connections after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const exchange = await app.responses.rawHttp(['GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'], 5000);
    assert.equal(rawStatus(exchange.response), 200);
    assert.ok(exchange.closedAfterMs !== undefined && exchange.closedAfterMs < 3000, `closed after ${exchange.closedAfterMs}`);
  });

  it('holds at most MAX_CONNECTIONS connections open', async () => {
    // 60 requests whose headers never end: the server closes those over the cap unanswered; the
    // others wait for their headers (a 408 later). Client and server share one event loop, so on a
    // loaded machine this waits, with a generous deadline, for the refusals rather than a fixed time.
    const sockets = Array.from({ length: 60 }, () => {
      const state = { socket: net.connect(Number(new URL(app.url).port), '127.0.0.1'), answered: false, closed: false };
      state.socket.on('connect', () => state.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n'));
      state.socket.on('data', () => (state.answered = true));
      state.socket.on('close', () => (state.closed = true));
      state.socket.on('error', () => undefined);
      return state;
    });
    const refused = () => sockets.filter((s) => s.closed && !s.answered).length;
    const deadline = Date.now() + 5000;
    while (refused() < 20 && Date.now() < deadline) await sleep(50);
    const open = await new Promise<number>((resolve, reject) => app.app.getHttpServer().getConnections((e, n) => (e ? reject(e) : resolve(n))));
    for (const s of sockets) s.socket.destroy();
    assert.ok(refused() >= 20, `${refused()} of 60 connections refused`);
    assert.ok(open <= 40, `${open} connections open`);
  });

  it('answers oversized headers (431) and a body longer than its Content-Length (400) in the error envelope', async () => {
    const big = await app.responses.rawHttp([`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`], 3000);
    assert.equal(rawStatus(big.response), 431);
    assert.equal(rawBody(big.response).code, 'HEADERS_TOO_LARGE');
    assert.equal(rawBody(big.response).status, 'FAILED');
    const body = '{"deviceType":"TOTP","deviceName":"x"}';
    const mismatch = await app.responses.rawHttp(
      [
        `POST /v1/users/ada/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n${body}`,
      ],
      3000,
    );
    const statuses = [...mismatch.response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.ok(statuses.includes(400), mismatch.response.slice(0, 300));
    for (const part of mismatch.response.split(/(?=HTTP\/1\.1 )/)) {
      assert.equal(rawBody(part).status, 'FAILED', part.slice(0, 300));
    }
  });

  it('refuses a correctly signed token whose sub is not a UUID (401, not 500)', async () => {
    const { token: odd } = await app.app.get(TokenSigner).issue('not-a-uuid', ['devices:read']);
    const r = await app.call('GET', '/v1/users/ada/devices', odd);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'INVALID_TOKEN');
  });

  it('issues low-S ECDSA signatures only, and refuses the high-S twin of a valid token', async () => {
    for (let i = 0; i < 6; i++) {
      const { token: fresh } = await app.clientWithToken('devices:read');
      const { flipped, originalWasLow } = flipS(fresh);
      assert.ok(originalWasLow, 'the service signs with low S');
      assert.equal((await app.call('GET', '/v1/users/ada/devices', fresh)).status, 200);
      const r = await app.call('GET', '/v1/users/ada/devices', flipped);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'INVALID_TOKEN');
    }
  });
});

describe('token spellings (issue 10 review)', () => {
  let app: App;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.teardown());

  it('accepts one spelling of a token only: padding, +/ and stray low bits are refused', async () => {
    const { token } = await app.clientWithToken('devices:read');
    const [head, body, signature] = token.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 64 signature bytes leave 2 unused bits in the last character: this one decodes to the same bytes.
    const last = alphabet.indexOf(signature.at(-1)!);
    const twin = alphabet[(last & ~3) | ((last + 1) & 3)];
    const variants = [`${token}==`, `${head}.${body}.${signature.slice(0, -1)}${twin}`, `${head}=.${body}.${signature}`];
    if (/[-_]/.test(token)) variants.push(token.replace(/-/g, '+').replace(/_/g, '/'));
    assert.equal((await app.call('GET', '/v1/users/ada/devices', token)).status, 200);
    for (const variant of variants) {
      const r = await app.call('GET', '/v1/users/ada/devices', variant);
      assert.equal(r.status, 401, variant);
      assert.equal(r.body.code, 'INVALID_TOKEN');
    }
  });
});

describe('shutdown with stalled connections (issue 10)', () => {
  let env: TestEnvironment;
  before(async () => {
    env = await createEnvironment();
  });
  after(() => destroyEnvironment(env));

  it('cuts stalled uploads during the drain period (408), and exits 0 within it plus a second or two', async () => {
    const drainMs = 4000;
    const port = await freePort();
    const service = new ServiceProcess(port, {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: env.redisKeyPrefix,
      ENCRYPTION_KEY: env.encryptionKey,
      SHUTDOWN_DRAIN_SECONDS: String(drainMs / 1000),
    });
    await service.start();
    const responses = new ResponseCheck(service.url);
    await responses.load(); // before the service stops
    const head = 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n';
    const opened = Date.now();
    const stalled = Array.from({ length: 5 }, () => responses.rawHttp([head, 'grant_type'], 20_000));
    await sleep(300);
    const signalled = Date.now();
    const code = await service.terminate();
    const took = Date.now() - signalled;
    for (const exchange of await Promise.all(stalled)) {
      assert.equal(rawStatus(exchange.response), 408, exchange.response.slice(0, 300));
      // Cut at the first connection check after a second's grace: well before the drain ends.
      const cutAfter = opened + exchange.closedAfterMs! - signalled;
      assert.ok(cutAfter < drainMs, `cut ${cutAfter} ms after SIGTERM, with a drain of ${drainMs} ms`);
    }
    assert.equal(code, 0, service.output.slice(-2000));
    assert.ok(took < drainMs + 3500, `shutdown took ${took} ms`);
  });
});
