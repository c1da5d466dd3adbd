import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';
import { REDIS_URL, startAppBehindPostgresProxy, startTestApp, type TestApp } from '../support/harness.js';
import { sleep } from '../support/otp.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

type App = TestApp & { teardown(): Promise<void> };
const NEW_DEVICE = { deviceType: 'TOTP', deviceName: 'My phone', accountName: 'ada@example.com' };
let userSeq = 0;
const newUser = () => `user-${process.pid}-${++userSeq}`;

async function create(app: TestApp, token: string, userId: string, body: unknown = NEW_DEVICE) {
  const r = await app.call('POST', `/v1/users/${userId}/devices`, token, body);
  return { ...r, authId: r.body.authId as string, secret: r.body.secret as string };
}

describe('device registration (API.md §4)', () => {
  let app: App;
  let token: string;

  before(async () => {
    app = await startTestApp({ TOTP_ISSUER: 'Acme', RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  it('creates a pending registration, shows its QR code and activates it with the code from the secret', async () => {
    const userId = newUser();
    const created = await create(app, token, userId);
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'SUCCESS');
    assert.equal(created.body.message, 'Please get the OTP from registered device to authenticate');
    assert.match(created.authId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(created.secret, /^[A-Z2-7]{32}$/, 'SHA1 secret: 20 bytes, Base32, no padding');
    assert.equal(
      created.body.registrationUri,
      `otpauth://totp/Acme:ada%40example.com?secret=${created.secret}&issuer=Acme&algorithm=SHA1&digits=6&period=30`,
    );
    assert.equal(created.body.qrCodeUrl, `/v1/users/${userId}/devices/${created.authId}/qr`);
    const expiresIn = Date.parse(created.body.expiresAt as string) - app.clock.nowMs();
    assert.ok(expiresIn > 590_000 && expiresIn <= 600_000, `expiresAt ${String(created.body.expiresAt)}`);

    const png = await app.fetch(created.body.qrCodeUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(png.headers.get('cache-control'), 'no-store');
    assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const svg = await app.fetch(created.body.qrCodeUrl, { headers: { authorization: `Bearer ${token}`, accept: 'image/svg+xml' } });
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.match(await svg.text(), /^<svg/);

    const listed = await app.call('GET', `/v1/users/${userId}/devices`, token);
    assert.equal((listed.body.devices as Array<{ status: string }>)[0].status, 'PENDING_ACTIVATION');

    const code = app.code(created.secret);
    const activated = await app.call('POST', `/v1/users/${userId}/devices/${created.authId}/activate`, token, { otp: code });
    assert.equal(activated.status, 200);
    const { recoveryCodes, ...rest } = activated.body;
    assert.deepEqual(rest, { status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId: created.authId });
    assert.equal((recoveryCodes as string[]).length, 10, "the user's first device comes with recovery codes");

    const device = await app.call('GET', `/v1/users/${userId}/devices/${created.authId}`, token);
    assert.equal((device.body.device as { status: string }).status, 'ACTIVE');
    const qrAfter = await app.call('GET', `/v1/users/${userId}/devices/${created.authId}/qr`, token);
    assert.equal(qrAfter.status, 404);
    assert.equal(qrAfter.body.code, 'REGISTRATION_NOT_FOUND');
    // The activating code's time step is spent.
    const reuse = await app.call('POST', `/v1/users/${userId}/devices/${created.authId}/verify`, token, { otp: code });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.code, 'INVALID_OTP');
    const again = await app.call('POST', `/v1/users/${userId}/devices/${created.authId}/activate`, token, { otp: code });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ALREADY_ACTIVE');
  });

  it('counts wrong codes down, destroys the registration at the fifth (429) and answers 404 after', async () => {
    const userId = newUser();
    const { authId, secret } = await create(app, token, userId);
    const wrong = app.wrongCode(secret);
    for (const remaining of [4, 3, 2, 1]) {
      const r = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: wrong });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'INVALID_OTP');
      assert.equal(r.body.remainingAttempts, remaining);
      assert.equal(typeof r.body.requestId, 'string');
    }
    const fifth = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: wrong });
    assert.equal(fifth.status, 429);
    assert.equal(fifth.body.code, 'TOO_MANY_ATTEMPTS');
    const sixth = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret) });
    assert.equal(sixth.status, 404);
    assert.equal(sixth.body.code, 'REGISTRATION_NOT_FOUND');
  });

  it('activates exactly once under 20 concurrent activations with the valid code', async () => {
    const userId = newUser();
    const { authId, secret } = await create(app, token, userId);
    const code = app.code(secret);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: code })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 200 || s === 409),
      statuses.join(','),
    );
    const list = await app.call('GET', `/v1/users/${userId}/devices`, token);
    assert.equal((list.body.devices as unknown[]).length, 1);
  });

  it('never lets another client see, show, activate or delete a registration: same 404 as an unknown id', async () => {
    const userId = newUser();
    const { authId, secret } = await create(app, token, userId);
    const other = await app.clientWithToken();
    const code = app.code(secret);
    for (const [method, path, body] of [
      ['GET', `/v1/users/${userId}/devices/${authId}/qr`, undefined],
      ['POST', `/v1/users/${userId}/devices/${authId}/activate`, { otp: code }],
    ] as const) {
      const theirs = await app.call(method, path, other.token, body);
      const unknown = await app.call(method, path.replace(authId, '5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d'), other.token, body);
      assert.equal(theirs.status, 404);
      assert.equal(theirs.body.code, unknown.body.code);
      assert.equal(theirs.body.message, unknown.body.message);
    }
    assert.equal((await app.call('GET', `/v1/users/${userId}/devices/${authId}`, other.token)).status, 404);
    assert.equal((await app.call('DELETE', `/v1/users/${userId}/devices/${authId}`, other.token)).status, 404);
    assert.equal(((await app.call('GET', `/v1/users/${userId}/devices`, other.token)).body.devices as unknown[]).length, 0);
    // Another user of the same client does not reach it either.
    assert.equal((await app.call('POST', `/v1/users/${newUser()}/devices/${authId}/activate`, token, { otp: code })).status, 404);
    // The owner still can.
    assert.equal((await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: code })).status, 200);
  });

  it('refuses malformed bodies and ids with 400 and field errors', async () => {
    const userId = newUser();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', `/v1/users/${userId}/devices`, { deviceType: 'TOTP' }, 'deviceName'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, extra: 1 }, 'extra'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, deviceName: '   ' }, 'deviceName'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, deviceName: 'x'.repeat(65) }, 'deviceName'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, deviceName: 'tab\there' }, 'deviceName'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, deviceName: 42 }, 'deviceName'],
      ['POST', `/v1/users/${userId}/devices`, { ...NEW_DEVICE, accountName: '' }, 'accountName'],
      ['POST', '/v1/users/bad%20user/devices', NEW_DEVICE, 'userId'],
      ['POST', `/v1/users/${'u'.repeat(129)}/devices`, NEW_DEVICE, 'userId'],
      ['POST', `/v1/users/${userId}/devices/not-a-uuid/activate`, { otp: '123456' }, 'authId'],
      ['POST', `/v1/users/${userId}/devices/5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d/activate`, { otp: '12ab56' }, 'otp'],
      ['POST', `/v1/users/${userId}/devices/5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d/activate`, {}, 'otp'],
      ['POST', `/v1/users/${userId}/devices/5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d/activate`, { otp: 123456 }, 'otp'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await app.call(method, path, token, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(r.body.status, 'FAILED');
      assert.equal(r.body.code, 'VALIDATION_FAILED');
      assert.ok(
        (r.body.errors as Array<{ field: string }>).some((e) => e.field === field),
        `${field} in ${JSON.stringify(r.body.errors)}`,
      );
    }
    const unsupported = await app.call('POST', `/v1/users/${userId}/devices`, token, { ...NEW_DEVICE, deviceType: 'SMS' });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.code, 'UNSUPPORTED_DEVICE_TYPE');
    const notJson = await app.call('POST', `/v1/users/${userId}/devices`, token, '{"deviceType":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.code, 'INVALID_REQUEST');
    const tooBig = await app.call('POST', `/v1/users/${userId}/devices`, token, { ...NEW_DEVICE, accountName: 'x'.repeat(17 * 1024) });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.code, 'PAYLOAD_TOO_LARGE');
  });

  it('trims device names and refuses a name an active device of the user already has', async () => {
    const userId = newUser();
    const first = await create(app, token, userId, { ...NEW_DEVICE, deviceName: '  Work phone  ' });
    await app.call('POST', `/v1/users/${userId}/devices/${first.authId}/activate`, token, { otp: app.code(first.secret) });
    const listed = await app.call('GET', `/v1/users/${userId}/devices`, token);
    assert.equal((listed.body.devices as Array<{ deviceName: string }>)[0].deviceName, 'Work phone');
    const taken = await create(app, token, userId, { ...NEW_DEVICE, deviceName: 'work PHONE' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'DEVICE_NAME_TAKEN');
    // A refused create leaves nothing behind: no pending registration, no REGISTRATION_CREATED event.
    const after = await app.call('GET', `/v1/users/${userId}/devices`, token);
    assert.deepEqual(
      (after.body.devices as Array<{ status: string }>).map((d) => d.status),
      ['ACTIVE'],
    );
    const events = await app.call('GET', `/v1/users/${userId}/events?limit=100`, token);
    assert.equal((events.body.events as Array<{ type: string }>).filter((e) => e.type === 'REGISTRATION_CREATED').length, 1);
  });

  it('refuses a create once the user has the most active devices, and leaves nothing behind', async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', MAX_ACTIVE_PER_USER: '1' });
    try {
      const { token: t } = await limited.clientWithToken();
      const userId = newUser();
      const first = await create(limited, t, userId);
      assert.equal(
        (await limited.call('POST', `/v1/users/${userId}/devices/${first.authId}/activate`, t, { otp: limited.code(first.secret) })).status,
        200,
      );
      const second = await create(limited, t, userId, { ...NEW_DEVICE, deviceName: 'Tablet' });
      assert.equal(second.status, 409);
      assert.equal(second.body.code, 'DEVICE_LIMIT_REACHED');
      assert.match(second.body.message as string, /at most 1 active devices/);
      const after = await limited.call('GET', `/v1/users/${userId}/devices`, t);
      assert.equal((after.body.devices as unknown[]).length, 1);
    } finally {
      await limited.teardown();
    }
  });

  it('allows at most 5 pending registrations per user', async () => {
    const userId = newUser();
    for (let i = 0; i < 5; i++) assert.equal((await create(app, token, userId, { ...NEW_DEVICE, deviceName: `phone ${i}` })).status, 201);
    const sixth = await create(app, token, userId, { ...NEW_DEVICE, deviceName: 'phone 6' });
    assert.equal(sixth.status, 409);
    assert.equal(sixth.body.code, 'DEVICE_LIMIT_REACHED');
  });

  it('keeps the secret encrypted in Redis and in Postgres', async () => {
    const userId = newUser();
    const { authId, secret } = await create(app, token, userId);
    const raw = Buffer.from(await import('../../src/totp/totp.js').then((m) => m.fromBase32(secret)));
    const forms = [secret, raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), raw.toString('latin1')];
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${app.env.redisKeyPrefix}*`, COUNT: 1000 })) keys.push(...batch);
    const regKey = keys.find((k) => k.includes(authId));
    assert.ok(regKey !== undefined, 'the registration is in Redis');
    const stored = JSON.stringify(await redis.hGetAll(regKey));
    assert.match(stored, /sealedSecret/);
    for (const form of forms) assert.ok(!stored.includes(form), 'secret in plain text in Redis');
    await redis.close();

    await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret) });
    const db = new pg.Client({ connectionString: app.env.databaseUrl });
    await db.connect();
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM devices WHERE id = $1', [authId]);
    await db.end();
    assert.equal(rows.length, 1);
    const row = JSON.stringify(rows[0]);
    for (const form of forms) assert.ok(!row.includes(form), 'secret in plain text in Postgres');
  });
});

describe('registration expiry', () => {
  let app: App;
  before(async () => {
    app = await startTestApp({ PENDING_REGISTRATION_TTL_SECONDS: '1' });
  });
  after(() => app.teardown());

  it('forgets a registration after its TTL: QR and activation answer 404', async () => {
    const { token } = await app.clientWithToken();
    const { authId, secret, body } = await create(app, token, 'expiring');
    assert.ok(Date.parse(body.expiresAt as string) - app.clock.nowMs() <= 1000);
    app.clock.advance(1300);
    assert.equal((await app.call('GET', `/v1/users/expiring/devices/${authId}/qr`, token)).status, 404);
    const r = await app.call('POST', `/v1/users/expiring/devices/${authId}/activate`, token, { otp: app.code(secret) });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'REGISTRATION_NOT_FOUND');
    assert.equal(((await app.call('GET', '/v1/users/expiring/devices', token)).body.devices as unknown[]).length, 0);
  });
});

describe('activation while Postgres is unavailable', () => {
  let app: TestApp;
  let proxy: TcpProxy;
  let teardown: () => Promise<void>;

  before(async () => {
    ({ app, proxy, teardown } = await startAppBehindPostgresProxy());
  });
  after(() => teardown());

  it('answers 503 fast, keeps the registration pending, and activates once Postgres is back', async () => {
    const { token } = await app.clientWithToken();
    const { authId, secret } = await create(app, token, 'outage');
    await proxy.stop();
    const started = Date.now();
    const r = await app.call('POST', `/v1/users/outage/devices/${authId}/activate`, token, { otp: app.code(secret) });
    const elapsed = Date.now() - started;
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'SERVICE_UNAVAILABLE');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.ok(elapsed < 2000, `answered in ${elapsed} ms`);
    await proxy.restart();
    // Still pending: the QR code is served and the same kind of code activates it.
    assert.equal((await app.call('GET', `/v1/users/outage/devices/${authId}/qr`, token)).status, 200);
    let activated = await app.call('POST', `/v1/users/outage/devices/${authId}/activate`, token, { otp: app.code(secret) });
    for (let i = 0; i < 20 && activated.status === 503; i++) {
      await sleep(100);
      activated = await app.call('POST', `/v1/users/outage/devices/${authId}/activate`, token, { otp: app.code(secret) });
    }
    assert.equal(activated.status, 200);
  });
});
