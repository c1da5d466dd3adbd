import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };
let seq = 0;

describe('drift tracking and resynchronisation (API.md §12), on two replicas', () => {
  let a: App;
  let b: TestApp;
  let token: string;

  before(async () => {
    a = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_THRESHOLD: '5' });
    b = await startApp(a.env, { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_THRESHOLD: '5' }, { clock: a.clock });
    ({ token } = await a.clientWithToken());
  });
  after(async () => {
    await b.close();
    await a.teardown();
  });

  async function device(): Promise<{ userId: string; id: string; secret: string }> {
    const userId = `drift-${process.pid}-${++seq}`;
    const created = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    const secret = created.body.secret as string;
    const activated = await a.call('POST', `/v1/users/${userId}/devices/${created.body.authId as string}/activate`, token, { otp: a.code(secret) });
    assert.equal(activated.status, 200);
    return { userId, id: created.body.authId as string, secret };
  }
  const verify = (app: TestApp, d: { userId: string; id: string }, otp: string) =>
    app.call('POST', `/v1/users/${d.userId}/devices/${d.id}/verify`, token, { otp });
  const resync = (app: TestApp, d: { userId: string; id: string }, otp1: string, otp2: string) =>
    app.call('POST', `/v1/users/${d.userId}/devices/${d.id}/resync`, token, { otp1, otp2 });

  it('refuses a code 2 steps ahead before a resync, and accepts one after it (the window follows the device)', async () => {
    const d = await device();
    a.clock.advance(30_000);
    // The phone's clock runs a minute fast: it shows the code of two steps from now.
    assert.equal((await verify(a, d, a.code(d.secret, 60))).status, 400);
    // The user reads two consecutive codes off the phone (30 s apart) and resyncs.
    a.clock.advance(30_000);
    const done = await resync(b, d, a.code(d.secret, 30), a.code(d.secret, 60));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    a.clock.advance(30_000);
    assert.equal((await verify(a, d, a.code(d.secret, 60))).status, 200, 'two steps ahead, now accepted (on the other replica too)');
    a.clock.advance(30_000);
    assert.equal((await verify(b, d, a.code(d.secret, 60))).status, 200);
    assert.equal((await verify(b, d, a.code(d.secret, -60))).status, 400, 'two steps behind is outside the window now');
    const events = await a.call('GET', `/v1/users/${d.userId}/events`, token);
    const types = (events.body.events as Array<{ type: string }>).map((e) => e.type).reverse();
    assert.deepEqual(types.slice(-5), ['VERIFICATION_FAILED', 'DEVICE_RESYNCED', 'OTP_VERIFIED', 'OTP_VERIFIED', 'VERIFICATION_FAILED']);
  });

  it('records the offset of each accepted code: a device drifting a step at a time stays accepted without a resync', async () => {
    const d = await device();
    for (let ahead = 1; ahead <= 4; ahead++) {
      a.clock.advance(30_000);
      const r = await verify(ahead % 2 ? a : b, d, a.code(d.secret, 30 * ahead));
      assert.equal(r.status, 200, `${ahead} steps ahead`);
    }
  });

  it('refuses codes further than 10 minutes away, and counts failed resyncs towards the lockout', async () => {
    const d = await device();
    a.clock.advance(30_000);
    const far = await resync(a, d, a.code(d.secret, 900), a.code(d.secret, 930));
    assert.deepEqual([far.status, far.body.code], [400, 'INVALID_OTP']);
    const notConsecutive = await resync(a, d, a.code(d.secret, 60), a.code(d.secret, 120));
    assert.equal(notConsecutive.status, 400);
    let last = notConsecutive;
    for (let i = 0; i < 4 && last.status !== 429; i++) last = await resync(i % 2 ? a : b, d, '000000', '111111');
    assert.deepEqual([last.status, last.body.code], [429, 'DEVICE_LOCKED']);
    const locked = await resync(a, d, a.code(d.secret, 0), a.code(d.secret, 30));
    assert.equal(locked.status, 429, 'no resync while locked');
  });

  it('refuses a resync with codes already used (replay)', async () => {
    const d = await device();
    a.clock.advance(30_000);
    const otp1 = a.code(d.secret);
    a.clock.advance(30_000);
    const otp2 = a.code(d.secret);
    assert.equal((await verify(a, d, otp2)).status, 200);
    assert.equal((await resync(b, d, otp1, otp2)).status, 400);
  });
});
