import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TotpApiError, TotpClient, type TotpClientOptions, TotpTokenError } from '../../clients/typescript/src/index.js';
import { ocraResponse, parseSuite } from '../../src/login/ocra.js';
import { fromBase32 } from '../../src/totp/totp.js';
import { startAppBehindPostgresProxy, startTestApp, type TestApp } from '../support/harness.js';
import { sleep } from '../support/otp.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

/**
 * Every request the client sends, as "METHOD path status" (and in `keyed`, those with an
 * Idempotency-Key); each answer checked against the OpenAPI document.
 */
function recordingFetch(app: TestApp): { fetch: (request: Request) => Promise<Response>; sent: string[]; keyed: string[] } {
  const sent: string[] = [];
  const keyed: string[] = [];
  return {
    sent,
    keyed,
    fetch: async (request) => {
      const response = await app.checkedFetch(request);
      sent.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
      if (request.headers.has('idempotency-key')) keyed.push(`${request.method} ${new URL(request.url).pathname}`);
      return response;
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 200) assert.fail('condition not met within 2 s');
    await sleep(10);
  }
}

const tokenRequests = (sent: string[]) => sent.filter((s) => s.startsWith('POST /oauth/token 200')).length;

describe('TypeScript client (clients/typescript) against the real service', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let client: (options?: Partial<TotpClientOptions>) => Promise<TotpClient>;

  before(async () => {
    app = await startTestApp();
    client = async (options = {}) => {
      const { clientId, clientSecret } = await app.createClient();
      return new TotpClient({ baseUrl: app.url, clientId, clientSecret, fetch: app.checkedFetch, ...options });
    };
  });
  after(() => app.teardown());

  it('runs the whole flow with one token: create, QR (PNG and SVG), activate, verify, list, rename, events, delete', async () => {
    const { fetch, sent, keyed } = recordingFetch(app);
    const totp = await client({ fetch });
    const created = await totp.createDevice('ada', { deviceType: 'TOTP', deviceName: 'Pixel' });
    assert.match(created.authId, /^[0-9a-f-]{36}$/);
    const png = await totp.getDeviceQrCode('ada', created.authId, 'png');
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.match(await totp.getDeviceQrCode('ada', created.authId, 'svg'), /<svg/);
    const activated = await totp.activateDevice('ada', created.authId, app.code(created.secret));
    assert.equal(activated.recoveryCodes?.length, 10);
    assert.equal((await totp.verifyRecoveryCode('ada', activated.recoveryCodes[0])).remainingCodes, 9);
    assert.equal((await totp.getRecoveryCodesState('ada')).remainingCodes, 9);
    assert.equal((await totp.regenerateRecoveryCodes('ada')).recoveryCodes.length, 10);
    app.clock.advance(30_000);
    assert.equal((await totp.verifyDeviceOtp('ada', activated.deviceId, app.code(created.secret))).deviceId, activated.deviceId);
    app.clock.advance(30_000);
    assert.equal((await totp.verifyUserOtp('ada', app.code(created.secret))).deviceId, activated.deviceId);
    const renamed = await totp.renameDevice('ada', activated.deviceId, 'Work phone');
    assert.equal(renamed.deviceName, 'Work phone');
    assert.equal((await totp.getDevice('ada', activated.deviceId)).status, 'ACTIVE');
    const listed = [];
    for await (const device of totp.allDevices('ada', 1)) listed.push(device.deviceId);
    assert.deepEqual(listed, [activated.deviceId]);
    const events = await totp.listUserEvents('ada');
    assert.deepEqual(
      events.events.map((e) => e.type),
      [
        'DEVICE_RENAMED',
        'OTP_VERIFIED',
        'OTP_VERIFIED',
        'RECOVERY_CODES_ISSUED',
        'RECOVERY_CODE_USED',
        'RECOVERY_CODES_ISSUED',
        'DEVICE_ACTIVATED',
        'REGISTRATION_CREATED',
      ],
    );
    await totp.deleteDevice('ada', activated.deviceId);
    await totp.eraseUser('ada');
    await assert.rejects(
      totp.getDevice('ada', activated.deviceId),
      (e: unknown) => e instanceof TotpApiError && e.status === 404 && e.code === 'DEVICE_NOT_FOUND',
    );
    assert.equal(tokenRequests(sent), 1, sent.join('\n'));
    // Keys (and the service's hourly quota of them) only where a repetition would lose something: not on OTP verification.
    assert.deepEqual(
      keyed.map((k) => k.replace(activated.deviceId, '{id}')),
      [
        'POST /v1/users/ada/devices',
        'POST /v1/users/ada/devices/{id}/activate',
        'POST /v1/users/ada/recovery-codes/verify',
        'POST /v1/users/ada/recovery-codes',
      ],
    );
  });

  it('logs in by QR code: create, QR, long-poll, approve with the OCRA response, redeem once, typed errors', async () => {
    const { fetch } = recordingFetch(app);
    const totp = await client({ fetch });
    const created = await totp.createDevice('grace', { deviceType: 'TOTP', deviceName: 'Pixel' });
    const { deviceId } = await totp.activateDevice('grace', created.authId, app.code(created.secret));
    const login = await totp.loginRequests.create('grace', { display: { message: 'Log in' } });
    assert.equal(login.status, 'PENDING');
    assert.deepEqual([...(await totp.loginRequests.qrCode('grace', login.requestId, 'png')).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const response = ocraResponse(parseSuite(login.ocraSuite), Buffer.from(fromBase32(created.secret)), { question: login.challenge });
    const waiting = totp.loginRequests.get('grace', login.requestId, 25);
    const wrong = await totp.loginRequests.approve('grace', login.requestId, deviceId, '00000000').catch((e: unknown) => e);
    assert.ok(wrong instanceof TotpApiError && wrong.code === 'INVALID_OCRA_RESPONSE' && wrong.remainingAttempts === 2);
    assert.equal((await totp.loginRequests.approve('grace', login.requestId, deviceId, response)).status, 'APPROVED');
    assert.equal((await waiting).status, 'APPROVED');
    assert.equal((await totp.loginRequests.redeem('grace', login.requestId)).redeemed, true);
    const again = await totp.loginRequests.redeem('grace', login.requestId).catch((e: unknown) => e);
    assert.ok(again instanceof TotpApiError && again.code === 'ALREADY_REDEEMED');
    const late = await totp.loginRequests.deny('grace', login.requestId, deviceId, response).catch((e: unknown) => e);
    assert.ok(late instanceof TotpApiError && late.code === 'LOGIN_REQUEST_NOT_PENDING' && late.loginStatus === 'APPROVED');
  });

  it('throws typed errors: the envelope code, field errors, attempts left, and the token endpoint error', async () => {
    const totp = await client();
    await assert.rejects(totp.createDevice('bob', { deviceType: 'TOTP', deviceName: '' }), (e: unknown) => {
      assert.ok(e instanceof TotpApiError);
      assert.equal(e.code, 'VALIDATION_FAILED');
      assert.equal(e.status, 400);
      assert.equal(e.errors?.[0]?.field, 'deviceName');
      assert.match(e.requestId ?? '', /./);
      return true;
    });
    const created = await totp.createDevice('bob', { deviceType: 'TOTP', deviceName: 'Phone' });
    const wrong = app.code(created.secret) === '000000' ? '111111' : '000000';
    await assert.rejects(totp.activateDevice('bob', created.authId, wrong), (e: unknown) => {
      assert.ok(e instanceof TotpApiError);
      assert.equal(e.code, 'INVALID_OTP');
      assert.equal(e.remainingAttempts, 4);
      return true;
    });
    const { clientId } = await app.createClient();
    const stranger = new TotpClient({
      baseUrl: app.url,
      clientId,
      clientSecret: 'not-the-secret-not-the-secret-not-the-secret',
      fetch: app.checkedFetch,
    });
    await assert.rejects(
      stranger.listDevices('bob'),
      (e: unknown) => e instanceof TotpTokenError && e.status === 401 && e.error === 'invalid_client',
    );
  });

  it('fetches one token for 50 concurrent calls, and refreshes it once, before it expires', async () => {
    const { fetch, sent } = recordingFetch(app);
    let now = Date.now();
    const totp = await client({ fetch, now: () => now });
    await Promise.all(Array.from({ length: 50 }, () => totp.listDevices('carol')));
    assert.equal(tokenRequests(sent), 1);
    now += 3_000_000; // well inside the hour
    await totp.listDevices('carol');
    assert.equal(tokenRequests(sent), 1);
    now += 600_000 - 59_000; // 59 s before expiry: inside the 60 s margin
    const before = await totp.accessToken(); // still the old one: the refresh runs in the background
    await Promise.all(Array.from({ length: 50 }, () => totp.listDevices('carol')));
    await until(() => tokenRequests(sent) === 2);
    assert.notEqual(await totp.accessToken(), before);
    await Promise.all(Array.from({ length: 50 }, () => totp.listDevices('carol')));
    assert.equal(tokenRequests(sent), 2);
    assert.equal(sent.filter((s) => !s.endsWith(' 200')).length, 0, sent.join('\n'));
  });

  it('gets a new token once when the service refuses the cached one (expired on its clock)', async () => {
    const { fetch, sent } = recordingFetch(app);
    const totp = await client({ fetch });
    await totp.listDevices('dave');
    app.clock.advance(3_700_000); // past exp and the 30 s leeway
    await totp.listDevices('dave');
    assert.deepEqual(
      sent.map((s) => s.replace(/\/v1\/users\/dave\/devices/, 'list')),
      ['POST /oauth/token 200', 'GET list 200', 'GET list 401', 'POST /oauth/token 200', 'GET list 200'],
    );
  });

  it('keeps using a valid token while the token endpoint cannot be reached, and fails once it has expired', async () => {
    const { fetch: checked, sent } = recordingFetch(app);
    let tokenEndpointDown = false;
    let now = Date.now();
    const totp = await client({
      now: () => now,
      fetch: (request) =>
        tokenEndpointDown && request.url.endsWith('/oauth/token') ? Promise.reject(new TypeError('fetch failed')) : checked(request),
    });
    await totp.listDevices('gina');
    tokenEndpointDown = true;
    now += 3_600_000 - 30_000; // inside the margin, still valid
    await totp.listDevices('gina');
    await totp.listDevices('gina');
    now += 40_000; // expired
    await assert.rejects(totp.listDevices('gina'), /fetch failed/);
    assert.equal(sent.filter((s) => s.startsWith('GET')).length, 3);
  });

  it('does not retry a 429 that is not RATE_LIMITED: TOO_MANY_ATTEMPTS (the registration is gone) and DEVICE_LOCKED reach the caller at once', async () => {
    const { fetch, sent } = recordingFetch(app);
    const totp = await client({ fetch, sleep: () => assert.fail('no wait expected') });
    const created = await totp.createDevice('hal', { deviceType: 'TOTP', deviceName: 'Phone' });
    const wrong = app.wrongCode(created.secret);
    for (let i = 0; i < 4; i++)
      await assert.rejects(totp.activateDevice('hal', created.authId, wrong), (e: unknown) => e instanceof TotpApiError && e.code === 'INVALID_OTP');
    await assert.rejects(
      totp.activateDevice('hal', created.authId, wrong),
      (e: unknown) => e instanceof TotpApiError && e.status === 429 && e.code === 'TOO_MANY_ATTEMPTS',
    );

    const device = await totp.createDevice('hal', { deviceType: 'TOTP', deviceName: 'Second' });
    const { deviceId } = await totp.activateDevice('hal', device.authId, app.code(device.secret));
    const wrongOtp = app.wrongCode(device.secret);
    for (let i = 0; i < 10; i++) await totp.verifyDeviceOtp('hal', deviceId, wrongOtp).catch(() => undefined);
    await assert.rejects(totp.verifyDeviceOtp('hal', deviceId, wrongOtp), (e: unknown) => {
      assert.ok(e instanceof TotpApiError);
      assert.equal(e.code, 'DEVICE_LOCKED');
      assert.ok((e.retryAfterSeconds ?? 0) > 0 && e.lockedUntil !== undefined);
      return true;
    });
    // One request per call: 1 token, 2 creates, 6 activations, 11 verifications; nothing sent twice.
    assert.equal(sent.length, 20, sent.join('\n'));
  });

  it('retries a 429 after its Retry-After, and returns the 429 as an error when Retry-After is too long', async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '1' });
    try {
      const { clientId, clientSecret } = await limited.createClient();
      const { fetch, sent } = recordingFetch(limited);
      const waits: number[] = [];
      const totp = new TotpClient({
        baseUrl: limited.url,
        clientId,
        clientSecret,
        fetch,
        sleep: async (ms) => {
          waits.push(ms);
          await sleep(ms);
        },
      });
      await totp.createDevice('erin', { deviceType: 'TOTP', deviceName: 'One' });
      await totp.createDevice('erin', { deviceType: 'TOTP', deviceName: 'Two' });
      const creates = sent.filter((s) => s.startsWith('POST /v1'));
      assert.ok(creates.includes('POST /v1/users/erin/devices 429'), creates.join('\n'));
      assert.equal(creates.filter((s) => s.endsWith(' 201')).length, 2);
      assert.ok(waits.length >= 1 && waits.every((ms) => ms >= 1000 && ms <= 1100), `waited ${waits.join(', ')} ms`);

      const impatient = new TotpClient({ baseUrl: limited.url, clientId, clientSecret, fetch, maxRetryDelayMs: 500 });
      await impatient.createDevice('erin', { deviceType: 'TOTP', deviceName: 'Three' }).catch(() => undefined);
      await assert.rejects(
        impatient.createDevice('erin', { deviceType: 'TOTP', deviceName: 'Four' }),
        (e: unknown) => e instanceof TotpApiError && e.status === 429 && e.code === 'RATE_LIMITED' && (e.retryAfterSeconds ?? 0) >= 1,
      );
    } finally {
      await limited.teardown();
    }
  });
});

describe('TypeScript client while Postgres is away', () => {
  let app: TestApp;
  let proxy: TcpProxy;
  let teardown: () => Promise<void>;

  before(async () => {
    ({ app, proxy, teardown } = await startAppBehindPostgresProxy());
  });
  after(() => teardown());

  it('retries the 503 after its Retry-After and succeeds once Postgres is back', async () => {
    const { clientId, clientSecret } = await app.createClient();
    const { fetch, sent } = recordingFetch(app);
    const waits: number[] = [];
    const totp = new TotpClient({
      baseUrl: app.url,
      clientId,
      clientSecret,
      fetch,
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 1) await proxy.restart();
        await sleep(ms);
      },
    });
    await totp.accessToken();
    await proxy.stop();
    const page = await totp.listDevices('frank');
    assert.deepEqual(page.devices, []);
    assert.ok(sent.includes('GET /v1/users/frank/devices 503'), sent.join('\n'));
    assert.ok(waits[0] >= 1000, `waited ${waits[0]} ms after a Retry-After of at least 1 s`);

    // A POST is retried under one Idempotency-Key: it runs once, however many tries it takes.
    const keys: string[] = [];
    const keyed = new TotpClient({
      baseUrl: app.url,
      clientId,
      clientSecret,
      fetch: (request) => {
        if (request.method === 'POST' && new URL(request.url).pathname.startsWith('/v1/')) keys.push(request.headers.get('idempotency-key') ?? '');
        return fetch(request);
      },
      sleep: async (ms) => {
        await proxy.restart();
        await sleep(ms);
      },
    });
    await keyed.accessToken();
    await proxy.stop();
    const created = await keyed.createDevice('frank', { deviceType: 'TOTP', deviceName: 'Retried' });
    assert.ok(keys.length >= 2 && keys.every((k) => k === keys[0] && /^[0-9a-f-]{36}$/.test(k)), keys.join(','));
    assert.deepEqual(
      (await keyed.listDevices('frank')).devices.map((d) => d.deviceId),
      [created.authId],
    );
  });
});
