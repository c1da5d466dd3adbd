import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/harness.js';

// Concurrent requests share Postgres statements (src/common/batcher.ts). These tests send many at
// once so that batches form, and check that each request still gets its own, exact answer.
type App = TestApp & { teardown(): Promise<void> };
let seq = 0;
const newUser = () => `bt-${process.pid}-${++seq}`;

describe('batched statements under concurrency', () => {
  let app: App;
  let token: string;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', MAX_ACTIVE_PER_USER: '2' });
    ({ token } = await app.clientWithToken());
  });
  after(() => app.teardown());

  const create = async (userId: string, deviceName: string) => {
    const r = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { userId, authId: r.body.authId as string, secret: r.body.secret as string };
  };
  const activate = (reg: { userId: string; authId: string; secret: string }) =>
    app.call('POST', `/v1/users/${reg.userId}/devices/${reg.authId}/activate`, token, { otp: app.code(reg.secret) });

  it('activates 30 users at once, and refuses exactly the one whose name collides and the one over the limit', async () => {
    const regs = await Promise.all(Array.from({ length: 30 }, () => create(newUser(), 'Phone')));
    // One user gets a second registration with the same name (both pass the create-time check,
    // as neither is active yet); another gets three registrations with a limit of two.
    const clash = await create(regs[0].userId, 'phone');
    const [extra1, extra2] = [await create(regs[1].userId, 'Tablet'), await create(regs[1].userId, 'Laptop')];
    const results = await Promise.all([...regs, clash, extra1, extra2].map(activate));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 31, statuses.join(','));
    const refused = results
      .filter((r) => r.status !== 200)
      .map((r) => r.body.code)
      .sort();
    assert.deepEqual(refused, ['DEVICE_LIMIT_REACHED', 'DEVICE_NAME_TAKEN'], statuses.join(','));
    for (const userId of [regs[0].userId, regs[1].userId]) {
      const list = await app.call('GET', `/v1/users/${userId}/devices`, token);
      const active = (list.body.devices as Array<{ status: string }>).filter((d) => d.status === 'ACTIVE');
      assert.ok(active.length >= 1 && active.length <= 2, `${userId}: ${JSON.stringify(list.body.devices)}`);
    }
    // Every activated device has exactly one DEVICE_ACTIVATED event.
    for (const reg of regs.slice(2)) {
      const events = await app.call('GET', `/v1/users/${reg.userId}/events?limit=100`, token);
      const types = (events.body.events as Array<{ type: string }>).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'DEVICE_ACTIVATED').length, 1, types.join(','));
    }
  });

  it('verifies 40 devices at once, each exactly once, with one audit event each; the replays are refused', async () => {
    const regs = await Promise.all(Array.from({ length: 40 }, () => create(newUser(), 'Phone')));
    // Activate with the previous step's code, so the current step is free for the login.
    for (const r of await Promise.all(
      regs.map((reg) => app.call('POST', `/v1/users/${reg.userId}/devices/${reg.authId}/activate`, token, { otp: app.code(reg.secret, -30) })),
    )) {
      assert.equal(r.status, 200);
    }
    const verify = (reg: (typeof regs)[number]) =>
      app.call('POST', `/v1/users/${reg.userId}/devices/${reg.authId}/verify`, token, { otp: app.code(reg.secret) });
    // Each code twice, all at once: per device exactly one of the two passes.
    const results = await Promise.all([...regs, ...regs].map(verify));
    for (let i = 0; i < regs.length; i++) {
      const pair = [results[i].status, results[i + regs.length].status].sort();
      assert.deepEqual(pair, [200, 400], `device ${i}: ${pair.join(',')}`);
    }
    for (const reg of regs) {
      const events = await app.call('GET', `/v1/users/${reg.userId}/events?limit=100`, token);
      const types = (events.body.events as Array<{ type: string }>).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'OTP_VERIFIED').length, 1, types.join(','));
      assert.equal(types.filter((t) => t === 'REPLAY_REFUSED').length, 1, types.join(','));
    }
  });

  it('reads many devices at once, each answered for its own user and client only', async () => {
    const regs = await Promise.all(Array.from({ length: 20 }, () => create(newUser(), 'Phone')));
    await Promise.all(regs.map(activate));
    const other = await app.clientWithToken();
    const reads = await Promise.all(
      regs.flatMap((reg, i) => [
        app.call('GET', `/v1/users/${reg.userId}/devices/${reg.authId}`, token),
        // The device of the next user, under this user's path: not found.
        app.call('GET', `/v1/users/${reg.userId}/devices/${regs[(i + 1) % regs.length].authId}`, token),
        app.call('GET', `/v1/users/${reg.userId}/devices/${reg.authId}`, other.token),
      ]),
    );
    for (let i = 0; i < regs.length; i++) {
      const [own, wrongUser, wrongClient] = reads.slice(i * 3, i * 3 + 3);
      assert.equal(own.status, 200);
      assert.equal((own.body.device as { deviceId: string }).deviceId, regs[i].authId);
      assert.equal(wrongUser.status, 404);
      assert.equal(wrongClient.status, 404);
    }
  });
});
