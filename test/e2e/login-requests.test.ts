import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AuditService } from '../../src/audit/audit.service.js';
import { ocraResponse, parseSuite } from '../../src/login/ocra.js';
import { fromBase32 } from '../../src/totp/totp.js';
import { destroyEnvironment, startApp, startTestApp, type TestApp } from '../support/harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';

type App = TestApp & { teardown(): Promise<void> };
type Body = Record<string, unknown>;
const APPROVER = join(import.meta.dirname, '..', '..', '..', 'examples', 'approver.mjs');
const SUITE = parseSuite('OCRA-1:HOTP-SHA256-8:QH40');
const base32Decode = (secret: string) => Buffer.from(fromBase32(secret));
let seq = 0;
const newUser = () => `login-${process.pid}-${++seq}`;

interface Device {
  userId: string;
  deviceId: string;
  secret: string;
}

describe('login by QR code (API.md §11), on two replicas', () => {
  let a: App;
  let b: TestApp;
  let token: string;
  let credentials: { clientId: string; clientSecret: string };
  const dir = mkdtempSync(join(tmpdir(), 'login-qr-'));

  before(async () => {
    const settings = { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' };
    a = await startTestApp(settings);
    b = await startApp(a.env, settings, { clock: a.clock });
    credentials = await a.createClient();
    token = await a.token(credentials);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await b.close();
    await a.teardown();
  });

  async function enrolled(userId = newUser(), name = 'Phone'): Promise<Device> {
    const created = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const secret = created.body.secret as string;
    const activated = await a.call('POST', `/v1/users/${userId}/devices/${created.body.authId as string}/activate`, token, { otp: a.code(secret) });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    return { userId, deviceId: activated.body.deviceId as string, secret };
  }
  const path = (userId: string, requestId: string, tail = '') => `/v1/users/${userId}/login-requests/${requestId}${tail}`;
  async function loginRequest(userId: string, body: Body = {}, app: TestApp = a): Promise<Body> {
    const r = await app.call('POST', `/v1/users/${userId}/login-requests`, token, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }
  const respond = (device: Device, challenge: unknown) => ocraResponse(SUITE, base32Decode(device.secret), { question: challenge as string });
  const decide = (app: TestApp, device: Device, requestId: unknown, response: string, decision = 'approve') =>
    app.call('POST', path(device.userId, requestId as string, `/${decision}`), token, { deviceId: device.deviceId, response });
  const approver = (args: string[]) =>
    promisify(execFile)(process.execPath, [
      APPROVER,
      '--url',
      a.url,
      '--client-id',
      credentials.clientId,
      '--client-secret',
      credentials.clientSecret,
      ...args,
    ]);
  async function events(userId: string): Promise<Array<{ type: string; detail: Body; deviceId: string | null }>> {
    const r = await a.call('GET', `/v1/users/${userId}/events?limit=100`, token);
    return (r.body.events as Array<{ type: string; detail: Body; deviceId: string | null }>).reverse();
  }

  it('approves through the reference phone, from the QR image: the long-poll on the other replica wakes, redeem works once', async () => {
    const device = await enrolled();
    const display = { message: 'Log in to Example Bank', ip: '203.0.113.7', userAgent: 'Firefox/133.0' };
    const created = await loginRequest(device.userId, { display });
    assert.equal(created.status, 'PENDING');
    assert.equal(created.ocraSuite, 'OCRA-1:HOTP-SHA256-8:QH40');
    assert.match(created.challenge as string, /^[0-9a-f]{40}$/);
    assert.match(created.qrPayload as string, /^totp-login:\/\/approve\?/);
    assert.deepEqual(created.display, display);

    const png = await a.fetch(created.qrCodeUrl as string, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const qrFile = join(dir, 'login.png');
    writeFileSync(qrFile, Buffer.from(await png.arrayBuffer()));

    const polled = b.call('GET', `${path(device.userId, created.requestId as string)}?waitSeconds=25`, token);
    await new Promise((r) => setTimeout(r, 300));
    const { stdout } = await approver(['--qr', qrFile, '--secret', device.secret, '--device-id', device.deviceId]);
    const approvedAt = performance.now();
    assert.match(stdout, /Log in to Example Bank \(from 203\.0\.113\.7, Firefox\/133\.0\)/);
    assert.match(stdout, /approve: 200 /);
    const status = await polled;
    assert.ok(performance.now() - approvedAt < 1000, 'the long-poll on the other replica answered within 1 s of the approval');
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'APPROVED');
    assert.equal(status.body.deviceId, device.deviceId);

    const redeemed = await b.call('POST', path(device.userId, created.requestId as string, '/redeem'), token);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body.redeemed, true);
    const again = await a.call('POST', path(device.userId, created.requestId as string, '/redeem'), token);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ALREADY_REDEEMED');

    const trail = (await events(device.userId)).filter((e) => e.type.startsWith('LOGIN_'));
    assert.deepEqual(
      trail.map((e) => e.type),
      ['LOGIN_REQUESTED', 'LOGIN_APPROVED', 'LOGIN_REDEEMED'],
    );
    assert.ok(trail.every((e) => e.detail.loginRequestId === created.requestId));
    assert.equal(trail[1]?.deviceId, device.deviceId);
  });

  it('denies through the reference phone (from the payload): DENIED, and nothing to redeem', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const { stdout } = await approver([
      '--payload',
      created.qrPayload as string,
      '--secret',
      device.secret,
      '--device-id',
      device.deviceId,
      '--deny',
    ]);
    assert.match(stdout, /deny: 200 /);
    const status = await b.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(status.body.status, 'DENIED');
    const redeem = await a.call('POST', path(device.userId, created.requestId as string, '/redeem'), token);
    assert.equal(redeem.status, 409);
    assert.deepEqual([redeem.body.code, redeem.body.loginStatus], ['LOGIN_REQUEST_NOT_APPROVED', 'DENIED']);
    assert.ok((await events(device.userId)).some((e) => e.type === 'LOGIN_DENIED'));
  });

  it('fails the request at the third wrong response; a right one after that changes nothing', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const right = respond(device, created.challenge);
    const wrong = String((Number(right) + 1) % 1e8).padStart(8, '0');
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const r = await decide(i % 2 === 0 ? a : b, device, created.requestId, wrong, i === 1 ? 'deny' : 'approve');
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'INVALID_OCRA_RESPONSE');
      remaining.push(r.body.remainingAttempts);
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const late = await decide(a, device, created.requestId, right);
    assert.equal(late.status, 409);
    assert.deepEqual([late.body.code, late.body.loginStatus], ['LOGIN_REQUEST_NOT_PENDING', 'FAILED']);
    const trail = await events(device.userId);
    assert.equal(trail.filter((e) => e.type === 'LOGIN_FAILED').length, 1);
  });

  it('takes exactly one decision from 20 concurrent right answers on two replicas', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const right = respond(device, created.challenge);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => decide(i % 2 === 0 ? a : b, device, created.requestId, right, i % 3 === 0 ? 'deny' : 'approve')),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.ok(results.every((r) => r.status === 200 || r.status === 409));
    const final = await a.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(final.body.status, ok[0]?.body.status);
    const decided = (await events(device.userId)).filter((e) => e.type === 'LOGIN_APPROVED' || e.type === 'LOGIN_DENIED');
    assert.equal(decided.length, 1);
  });

  it('evaluates at most 3 of 30 concurrent wrong answers, and the request ends FAILED', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => decide(i % 2 === 0 ? a : b, device, created.requestId, String(10_000_000 + i).slice(0, 8))),
    );
    const evaluated = results.filter((r) => r.status === 400);
    assert.ok(evaluated.length <= 3, results.map((r) => r.status).join(','));
    assert.ok(results.every((r) => r.status === 400 || r.status === 409));
    // Whatever the interleaving, three wrong answers end it; retry the refused ones until then.
    for (let i = 0; i < 3; i++) await decide(a, device, created.requestId, '00000000');
    const final = await a.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(final.body.status, 'FAILED');
  });

  it('holds a bound request to its device: another device of the user, even with its own right answer, is a wrong answer', async () => {
    const phone = await enrolled();
    const tablet = await enrolled(phone.userId, 'Tablet');
    const created = await loginRequest(phone.userId, { deviceId: phone.deviceId });
    assert.equal(created.deviceId, phone.deviceId);
    assert.match(created.qrPayload as string, new RegExp(`deviceId=${phone.deviceId}`));
    const byTablet = await decide(a, tablet, created.requestId, respond(tablet, created.challenge));
    assert.deepEqual([byTablet.status, byTablet.body.remainingAttempts], [400, 2]);
    const byPhone = await decide(b, phone, created.requestId, respond(phone, created.challenge));
    assert.equal(byPhone.status, 200);
  });

  it("answers 404 for another client's request and for another user's path, and changes nothing", async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const other = await a.clientWithToken();
    const id = created.requestId as string;
    for (const [method, tail, body] of [
      ['GET', '', undefined],
      ['GET', '/qr', undefined],
      ['POST', '/approve', { deviceId: device.deviceId, response: respond(device, created.challenge) }],
      ['POST', '/redeem', undefined],
    ] as const) {
      const r = await a.call(method, path(device.userId, id, tail), other.token, body);
      assert.deepEqual([r.status, r.body.code], [404, 'LOGIN_REQUEST_NOT_FOUND'], `${method} ${tail}`);
      const elsewhere = await a.call(method, path(`${device.userId}-x`, id, tail), token, body);
      assert.equal(elsewhere.status, 404);
    }
    const status = await a.call('GET', path(device.userId, id), token);
    assert.deepEqual([status.body.status, status.body.redeemed], ['PENDING', false]);
  });

  it('expires: EXPIRED after LOGIN_REQUEST_TTL_SECONDS, no decision lands, and the sweep records LOGIN_EXPIRED once', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    a.clock.advance(120_000);
    try {
      const status = await b.call('GET', `${path(device.userId, created.requestId as string)}?waitSeconds=5`, token);
      assert.equal(status.body.status, 'EXPIRED');
      const late = await decide(a, device, created.requestId, respond(device, created.challenge));
      assert.deepEqual([late.status, late.body.loginStatus], [409, 'EXPIRED']);
      a.clock.advance(31_000);
      await a.app.get(AuditService).sweepExpiries();
      await b.app.get(AuditService).sweepExpiries();
      const expired = (await events(device.userId)).filter((e) => e.type === 'LOGIN_EXPIRED');
      assert.equal(expired.length, 1);
      assert.equal(expired[0]?.detail.loginRequestId, created.requestId);
    } finally {
      a.clock.advance(-151_000);
    }
  });

  it('long-polls until waitSeconds when nothing happens, and answers at once without it', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const quick = await a.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(quick.body.status, 'PENDING');
    const started = performance.now();
    const waited = await b.call('GET', `${path(device.userId, created.requestId as string)}?waitSeconds=1`, token);
    assert.equal(waited.body.status, 'PENDING');
    assert.ok(performance.now() - started >= 900, 'waited about a second');
  });

  it('refuses what the caller got wrong with 400 and a clear error', async () => {
    const device = await enrolled();
    const created = await loginRequest(device.userId);
    const id = created.requestId as string;
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/approve', { deviceId: device.deviceId, response: '1234' }],
      ['POST', '/approve', { deviceId: 'not-a-uuid', response: '12345678' }],
      ['POST', '/deny', { deviceId: device.deviceId }],
      ['GET', '?waitSeconds=26', undefined],
      ['GET', '?waitSeconds=abc', undefined],
      ['GET', '?waitSeconds=0x10', undefined],
      ['GET', '?waitSeconds=1e1', undefined],
      ['GET', '?waitSeconds=', undefined],
    ];
    for (const [method, tail, body] of cases) {
      const r = await a.call(method, path(device.userId, id, tail), token, body);
      assert.deepEqual([r.status, r.body.code], [400, 'VALIDATION_FAILED'], `${method} ${tail}`);
    }
    for (const display of [{ ip: 'x' }, [{ message: 'hi' }], [], 'text', { message: 'hi', extra: 1 }]) {
      const badDisplay = await a.call('POST', `/v1/users/${device.userId}/login-requests`, token, { display });
      assert.deepEqual([badDisplay.status, badDisplay.body.code], [400, 'VALIDATION_FAILED'], JSON.stringify(display));
    }
    // Nothing of that counted: three wrong answers are still allowed.
    const wrong = await decide(a, device, id, '00000000');
    assert.equal(wrong.body.remainingAttempts, 2);
  });

  it('holds the user to LOCKOUT_THRESHOLD wrong responses across requests: new requests buy no new guesses', async () => {
    const device = await enrolled();
    const statuses: number[] = [];
    for (let r = 0; r < 4; r++) {
      const created = await loginRequest(device.userId);
      for (let i = 0; i < 3; i++) statuses.push((await decide(r % 2 ? a : b, device, created.requestId, `0000000${i}`)).status);
    }
    assert.equal(statuses.filter((s) => s === 400).length, 10, statuses.join(','));
    const created = await loginRequest(device.userId);
    const locked = await decide(a, device, created.requestId, respond(device, created.challenge));
    assert.deepEqual([locked.status, locked.body.code], [429, 'USER_LOCKED']);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    const still = await a.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(still.body.status, 'PENDING', 'a refused check counts against nothing');
  });

  it('gives a right response its guess back: a user who logs in often is never locked by it', async () => {
    const device = await enrolled();
    for (let i = 0; i < 9; i++) {
      const created = await loginRequest(device.userId, {}, i % 2 ? a : b);
      assert.equal((await decide(a, device, created.requestId, respond(device, created.challenge))).status, 200);
    }
    // Nine right answers used none of the ten wrong-answer slots (kept, they would leave one): both are checked.
    const created = await loginRequest(device.userId);
    const first = await decide(b, device, created.requestId, '00000000');
    const second = await decide(a, device, created.requestId, '00000001');
    assert.deepEqual([first.status, first.body.remainingAttempts, second.status, second.body.remainingAttempts], [400, 2, 400, 1]);
  });

  it('lets no locked device approve, and counts nothing against the request', async () => {
    const device = await enrolled();
    for (let i = 0; i < 10; i++)
      await a.call('POST', `/v1/users/${device.userId}/devices/${device.deviceId}/verify`, token, { otp: a.wrongCode(device.secret) });
    const created = await loginRequest(device.userId);
    const refused = await decide(b, device, created.requestId, respond(device, created.challenge));
    assert.deepEqual([refused.status, refused.body.code], [429, 'DEVICE_LOCKED']);
    const status = await a.call('GET', path(device.userId, created.requestId as string), token);
    assert.equal(status.body.status, 'PENDING');
  });

  it('logs no one in with an approval whose device was deleted since, or whose user was erased', async () => {
    for (const erase of [(d: Device) => `/v1/users/${d.userId}/devices/${d.deviceId}`, (d: Device) => `/v1/users/${d.userId}`]) {
      const device = await enrolled();
      const created = await loginRequest(device.userId);
      assert.equal((await decide(a, device, created.requestId, respond(device, created.challenge))).status, 200);
      assert.equal((await a.call('DELETE', erase(device), token)).status, 204);
      const redeem = await b.call('POST', path(device.userId, created.requestId as string, '/redeem'), token);
      assert.deepEqual([redeem.status, redeem.body.code], [404, 'LOGIN_REQUEST_NOT_FOUND']);
    }
  });

  it('needs an active device of the user, and limits login requests to 10 per user per minute', async () => {
    const nobody = await a.call('POST', `/v1/users/${newUser()}/login-requests`, token, {});
    assert.deepEqual([nobody.status, nobody.body.code], [404, 'DEVICE_NOT_FOUND']);
    const device = await enrolled();
    const unknown = await a.call('POST', `/v1/users/${device.userId}/login-requests`, token, { deviceId: '6f1c3a2e-9b8d-4c7e-8a5f-1e2d3c4b5a69' });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'DEVICE_NOT_FOUND']);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).call('POST', `/v1/users/${device.userId}/login-requests`, token, {})),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 10);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, 2);
    assert.ok(Number(limited[0]?.headers.get('retry-after')) >= 1);
  });
});

describe('login by QR code while Redis is out', () => {
  let app: App;
  let proxy: TcpProxy;

  before(async () => {
    proxy = new TcpProxy(6379);
    await proxy.start();
    app = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
  });
  after(async () => {
    await app.teardown();
    await proxy.stop();
  });

  it('answers 503 fast, never a wrong decision, and the request can still be decided once Redis is back', async () => {
    const { token } = await app.clientWithToken();
    const userId = newUser();
    const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    const secret = created.body.secret as string;
    const activated = await app.call('POST', `/v1/users/${userId}/devices/${created.body.authId as string}/activate`, token, {
      otp: app.code(secret),
    });
    const deviceId = activated.body.deviceId as string;
    const request = await app.call('POST', `/v1/users/${userId}/login-requests`, token, {});
    assert.equal(request.status, 201);
    const id = request.body.requestId as string;
    const right = ocraResponse(SUITE, base32Decode(secret), { question: request.body.challenge as string });

    await proxy.stop();
    for (const [method, tail, body] of [
      ['POST', '/approve', { deviceId, response: right }],
      ['POST', '/deny', { deviceId, response: right }],
      ['GET', '?waitSeconds=3', undefined],
      ['POST', '/redeem', undefined],
    ] as const) {
      const r = await app.call(method, `/v1/users/${userId}/login-requests/${id}${tail}`, token, body);
      assert.equal(r.status, 503, `${method} ${tail}: ${JSON.stringify(r.body)}`);
    }
    await proxy.start();
    let status: Body = {};
    for (let i = 0; i < 50 && status.status !== 'PENDING'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await app.call('GET', `/v1/users/${userId}/login-requests/${id}`, token)).body;
    }
    assert.equal(status.status, 'PENDING', 'nothing was decided during the outage');
    const approved = await app.call('POST', `/v1/users/${userId}/login-requests/${id}/approve`, token, { deviceId, response: right });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
  });
});

describe('login by QR code at shutdown', () => {
  it('answers long-polls in flight with the status they have, so they do not hold the shutdown', async () => {
    const app = await startTestApp();
    try {
      const { token } = await app.clientWithToken();
      const userId = newUser();
      const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      await app.call('POST', `/v1/users/${userId}/devices/${created.body.authId as string}/activate`, token, {
        otp: app.code(created.body.secret as string),
      });
      const request = await app.call('POST', `/v1/users/${userId}/login-requests`, token, {});
      const polls = Array.from({ length: 3 }, () =>
        app.call('GET', `/v1/users/${userId}/login-requests/${request.body.requestId as string}?waitSeconds=25`, token),
      );
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      await app.close();
      assert.ok(performance.now() - started < 10_000, 'the shutdown did not wait for waitSeconds');
      for (const poll of await Promise.all(polls)) assert.deepEqual([poll.status, poll.body.status], [200, 'PENDING']);
    } finally {
      await destroyEnvironment(app.env);
    }
  });
});
