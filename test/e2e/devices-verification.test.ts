import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { REDIS_URL, startApp, startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };
let seq = 0;
const newUser = () => `dv-${process.pid}-${++seq}`;

/** Creates and activates a device; the activation spends the step of `offset` seconds from now. */
async function activeDevice(app: TestApp, token: string, userId: string, name = 'Phone', offset = 0) {
  const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
  const authId = created.body.authId as string;
  const secret = created.body.secret as string;
  const r = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret, offset) });
  assert.equal(r.status, 200);
  return { deviceId: authId, secret };
}

async function eventTypes(app: TestApp, token: string, userId: string): Promise<string[]> {
  const r = await app.call('GET', `/v1/users/${userId}/events?limit=100`, token);
  return (r.body.events as Array<{ type: string }>).map((e) => e.type);
}

describe('verification (API.md §6)', () => {
  let app: App;
  let token: string;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_SECONDS: '2' });
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  it('accepts a code once: the same code again answers like a wrong one and is audited as a replay', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    const code = app.code(secret);
    const first = await app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: code });
    assert.deepEqual(first.body, { status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId });
    const replay = await app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: code });
    const wrong = await app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: app.wrongCode(secret) });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.code, 'INVALID_OTP');
    assert.equal(replay.body.message, wrong.body.message);
    assert.deepEqual(Object.keys(replay.body).sort(), Object.keys(wrong.body).sort());
    const types = await eventTypes(app, token, userId);
    assert.ok(types.includes('REPLAY_REFUSED'));
    assert.ok(types.includes('OTP_VERIFIED'));
    const device = await app.call('GET', `/v1/users/${userId}/devices/${deviceId}`, token);
    assert.equal(typeof (device.body.device as { lastUsedAt: unknown }).lastUsedAt, 'string');
  });

  it('lets exactly one of 20 concurrent verifications with the same code pass', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    const code = app.code(secret);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: code })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
    // The refused replays count as failures, so the tenth of them locks the device.
    assert.ok(
      results.every((r) => r.status === 200 || r.status === 400 || r.status === 429),
      results.map((r) => r.status).join(','),
    );
  });

  it('accepts one step of drift either side and refuses two', async () => {
    const userId = newUser();
    // Activation with the previous step's code: one step behind is accepted.
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    const verify = (offset: number) => app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: app.code(secret, offset) });
    assert.equal((await verify(-60)).status, 400, 'two steps behind');
    assert.equal((await verify(60)).status, 400, 'two steps ahead');
    assert.equal((await verify(0)).status, 200, 'current step');
    assert.equal((await verify(30)).status, 200, 'one step ahead');
  });

  it('locks a device after 10 consecutive failures (429 with Retry-After), even for the right code, until the lock ends', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    const path = `/v1/users/${userId}/devices/${deviceId}/verify`;
    const wrong = app.wrongCode(secret);
    for (let i = 1; i <= 9; i++) assert.equal((await app.call('POST', path, token, { otp: wrong })).status, 400, `failure ${i}`);
    const tenth = await app.call('POST', path, token, { otp: wrong });
    assert.equal(tenth.status, 429);
    assert.equal(tenth.body.code, 'DEVICE_LOCKED');
    assert.ok(Number(tenth.headers.get('retry-after')) >= 1);
    const right = await app.call('POST', path, token, { otp: app.code(secret) });
    assert.equal(right.status, 429);
    const listed = await app.call('GET', `/v1/users/${userId}/devices/${deviceId}`, token);
    assert.equal((listed.body.device as { status: string }).status, 'LOCKED');
    // The lock is in Postgres: another instance sees it too.
    const second = await startApp(app.env, { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_SECONDS: '2' }, { clock: app.clock });
    try {
      assert.equal((await second.call('POST', path, token, { otp: app.code(secret) })).status, 429);
    } finally {
      await second.close();
    }
    app.clock.advance(2100);
    assert.equal((await app.call('POST', path, token, { otp: app.code(secret) })).status, 200);
    assert.ok((await eventTypes(app, token, userId)).includes('DEVICE_LOCKED'));
  });

  it('resets the failure count on success', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    const path = `/v1/users/${userId}/devices/${deviceId}/verify`;
    const wrong = app.wrongCode(secret);
    for (let i = 0; i < 9; i++) await app.call('POST', path, token, { otp: wrong });
    assert.equal((await app.call('POST', path, token, { otp: app.code(secret) })).status, 200);
    for (let i = 0; i < 9; i++) assert.equal((await app.call('POST', path, token, { otp: wrong })).status, 400);
  });

  it("verifies against all of a user's devices and says which one matched", async () => {
    const userId = newUser();
    await activeDevice(app, token, userId, 'One', -30);
    const two = await activeDevice(app, token, userId, 'Two', -30);
    const r = await app.call('POST', `/v1/users/${userId}/verify`, token, { otp: app.code(two.secret) });
    assert.equal(r.status, 200);
    assert.equal(r.body.deviceId, two.deviceId);
    const wrong = await app.call('POST', `/v1/users/${userId}/verify`, token, { otp: app.wrongCode(two.secret) });
    assert.equal(wrong.status, 400);
    assert.equal((await app.call('POST', `/v1/users/${newUser()}/verify`, token, { otp: '123456' })).status, 404);
  });

  it('stops verifying a deleted device at once', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId, 'Phone', -30);
    assert.equal((await app.call('DELETE', `/v1/users/${userId}/devices/${deviceId}`, token)).status, 204);
    const r = await app.call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp: app.code(secret) });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'DEVICE_NOT_FOUND');
    assert.equal((await app.call('POST', `/v1/users/${userId}/verify`, token, { otp: app.code(secret) })).status, 404);
  });

  it("answers 404 for another client's device, exactly as for an unknown one", async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(app, token, userId);
    const other = await app.clientWithToken();
    const unknown = '5b2c7a4e-1d3f-4a6b-8c9d-0e1f2a3b4c5d';
    for (const [method, suffix, body] of [
      ['POST', '/verify', { otp: app.code(secret) }],
      ['GET', '', undefined],
      ['PATCH', '', { deviceName: 'Mine now' }],
      ['DELETE', '', undefined],
    ] as const) {
      const theirs = await app.call(method, `/v1/users/${userId}/devices/${deviceId}${suffix}`, other.token, body);
      const none = await app.call(method, `/v1/users/${userId}/devices/${unknown}${suffix}`, other.token, body);
      assert.equal(theirs.status, 404, `${method} ${suffix}`);
      assert.deepEqual({ ...theirs.body, requestId: '' }, { ...none.body, requestId: '' });
    }
    assert.equal((await app.call('POST', `/v1/users/${userId}/verify`, other.token, { otp: app.code(secret) })).status, 404);
    assert.equal((await app.call('GET', `/v1/users/${userId}/devices/${deviceId}`, token)).status, 200);
  });
});

describe('device management (API.md §5) and the audit trail', () => {
  let app: App;
  let token: string;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  it('lists active devices and pending registrations newest first, never with a secret, paginated by cursor', async () => {
    const userId = newUser();
    await activeDevice(app, token, userId, 'A');
    app.clock.advance(1000);
    await activeDevice(app, token, userId, 'B');
    app.clock.advance(1000);
    await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'C' });
    const all = await app.call('GET', `/v1/users/${userId}/devices`, token);
    const devices = all.body.devices as Array<Record<string, unknown>>;
    assert.deepEqual(
      devices.map((d) => d.deviceName),
      ['C', 'B', 'A'],
    );
    assert.deepEqual(
      devices.map((d) => d.status),
      ['PENDING_ACTIVATION', 'ACTIVE', 'ACTIVE'],
    );
    assert.equal(typeof devices[0].expiresAt, 'string');
    assert.equal(devices[1].expiresAt, null);
    for (const d of devices) {
      assert.deepEqual(Object.keys(d).sort(), [
        'activatedAt',
        'createdAt',
        'deviceId',
        'deviceName',
        'deviceType',
        'expiresAt',
        'lastUsedAt',
        'status',
      ]);
    }
    assert.equal(all.body.nextCursor, null);
    const page1 = await app.call('GET', `/v1/users/${userId}/devices?limit=2`, token);
    assert.deepEqual(
      (page1.body.devices as Array<{ deviceName: string }>).map((d) => d.deviceName),
      ['C', 'B'],
    );
    const page2 = await app.call('GET', `/v1/users/${userId}/devices?limit=2&cursor=${String(page1.body.nextCursor)}`, token);
    assert.deepEqual(
      (page2.body.devices as Array<{ deviceName: string }>).map((d) => d.deviceName),
      ['A'],
    );
    assert.equal(page2.body.nextCursor, null);
    for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'cursor=%25%25', 'cursor=Zm9v', 'other=1']) {
      const r = await app.call('GET', `/v1/users/${userId}/devices?${bad}`, token);
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.code, 'VALIDATION_FAILED');
    }
  });

  it('renames devices and pending registrations, refusing a name already taken', async () => {
    const userId = newUser();
    const a = await activeDevice(app, token, userId, 'Old');
    await activeDevice(app, token, userId, 'Other');
    const renamed = await app.call('PATCH', `/v1/users/${userId}/devices/${a.deviceId}`, token, { deviceName: ' New ' });
    assert.equal(renamed.status, 200);
    assert.equal((renamed.body.device as { deviceName: string }).deviceName, 'New');
    const clash = await app.call('PATCH', `/v1/users/${userId}/devices/${a.deviceId}`, token, { deviceName: 'other' });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'DEVICE_NAME_TAKEN');
    const pending = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Pending' });
    const r = await app.call('PATCH', `/v1/users/${userId}/devices/${String(pending.body.authId)}`, token, { deviceName: 'Still pending' });
    assert.equal(r.status, 200);
    assert.equal((r.body.device as { deviceName: string; status: string }).deviceName, 'Still pending');
    const bad = await app.call('PATCH', `/v1/users/${userId}/devices/${a.deviceId}`, token, { deviceName: '' });
    assert.equal(bad.status, 400);
  });

  it('deletes a pending registration from Redis', async () => {
    const userId = newUser();
    const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Gone' });
    const authId = created.body.authId as string;
    assert.equal((await app.call('DELETE', `/v1/users/${userId}/devices/${authId}`, token)).status, 204);
    assert.equal((await app.call('DELETE', `/v1/users/${userId}/devices/${authId}`, token)).status, 404);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${app.env.redisKeyPrefix}reg:*${authId}`, COUNT: 1000 })) keys.push(...batch);
    await redis.close();
    assert.deepEqual(keys, []);
    const r = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(created.body.secret as string) });
    assert.equal(r.status, 404);
  });

  it('writes an audit event for every path, newest first, paginated, without secrets or codes', async () => {
    const userId = newUser();
    const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Audited' });
    const authId = created.body.authId as string;
    const secret = created.body.secret as string;
    const wrong = app.wrongCode(secret);
    await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: wrong });
    await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret, -30) });
    await app.call('POST', `/v1/users/${userId}/devices/${authId}/verify`, token, { otp: app.code(secret) });
    await app.call('POST', `/v1/users/${userId}/devices/${authId}/verify`, token, { otp: app.code(secret) });
    await app.call('POST', `/v1/users/${userId}/devices/${authId}/verify`, token, { otp: wrong });
    await app.call('PATCH', `/v1/users/${userId}/devices/${authId}`, token, { deviceName: 'Renamed' });
    await app.call('DELETE', `/v1/users/${userId}/devices/${authId}`, token);
    const pending = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Exhaust' });
    for (let i = 0; i < 5; i++)
      await app.call('POST', `/v1/users/${userId}/devices/${String(pending.body.authId)}/activate`, token, {
        otp: app.wrongCode(pending.body.secret as string),
      });

    const all = await app.call('GET', `/v1/users/${userId}/events?limit=100`, token);
    const events = all.body.events as Array<Record<string, unknown>>;
    assert.deepEqual(events.map((e) => e.type).reverse(), [
      'REGISTRATION_CREATED',
      'ACTIVATION_FAILED',
      'DEVICE_ACTIVATED',
      'RECOVERY_CODES_ISSUED',
      'OTP_VERIFIED',
      'REPLAY_REFUSED',
      'VERIFICATION_FAILED',
      'VERIFICATION_FAILED',
      'DEVICE_RENAMED',
      'DEVICE_DELETED',
      'REGISTRATION_CREATED',
      'ACTIVATION_FAILED',
      'ACTIVATION_FAILED',
      'ACTIVATION_FAILED',
      'ACTIVATION_FAILED',
      'ACTIVATION_FAILED',
      'REGISTRATION_EXHAUSTED',
    ]);
    for (const e of events) {
      assert.equal(e.userId, userId);
      assert.equal(typeof e.requestId, 'string');
      assert.equal(typeof e.createdAt, 'string');
    }
    const text = JSON.stringify(events);
    assert.ok(!text.includes(secret) && !text.includes(wrong), 'no secret or OTP in events');
    const first = await app.call('GET', `/v1/users/${userId}/events?limit=3`, token);
    const second = await app.call('GET', `/v1/users/${userId}/events?limit=3&cursor=${String(first.body.nextCursor)}`, token);
    assert.deepEqual([...(first.body.events as unknown[]), ...(second.body.events as unknown[])], events.slice(0, 6));
  });

  it('records the expiry of a registration nobody activated', async () => {
    const short = await startApp(app.env, { PENDING_REGISTRATION_TTL_SECONDS: '1' });
    try {
      const userId = newUser();
      await short.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Lapsed' });
      short.clock.advance(1200);
      const { AuditService } = await import('../../src/audit/audit.service.js');
      await short.app.get(AuditService).sweepExpiries();
      assert.deepEqual((await eventTypes(short, token, userId)).reverse(), ['REGISTRATION_CREATED', 'REGISTRATION_EXPIRED']);
      await short.app.get(AuditService).sweepExpiries();
      assert.equal((await eventTypes(short, token, userId)).length, 2, 'recorded once');
    } finally {
      await short.close();
    }
  });
});
