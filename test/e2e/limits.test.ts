import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, startTestApp, type TestApp } from '../support/harness.js';

describe('resource limits', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let second: TestApp;
  // A replica without the rate limit, so the cap test sends its requests back to back.
  let unlimited: TestApp;
  const settings = { RATE_LIMIT_PER_CLIENT_PER_SECOND: '5', MAX_PENDING_PER_CLIENT: '7' };
  before(async () => {
    app = await startTestApp(settings);
    [second, unlimited] = await Promise.all([startApp(app.env, settings), startApp(app.env, { ...settings, RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' })]);
  });
  after(async () => {
    await Promise.all([second.close(), unlimited.close()]);
    await app.teardown();
  });

  it('limits create and activate per client per second across replicas, with 429 and Retry-After', async () => {
    const { token } = await app.clientWithToken();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? app : second).call('POST', `/v1/users/rl-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' }),
      ),
    );
    const ok = results.filter((r) => r.status === 201).length;
    const limited = results.filter((r) => r.status === 429);
    assert.ok(ok >= 1 && ok <= 5, `${ok} created`);
    assert.equal(ok + limited.length, 12);
    for (const r of limited) {
      assert.equal(r.body.code, 'RATE_LIMITED');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    // Another client has its own budget.
    const other = await app.clientWithToken();
    assert.equal((await app.call('POST', '/v1/users/rl-other/devices', other.token, { deviceType: 'TOTP', deviceName: 'Phone' })).status, 201);
  });

  it('caps the pending registrations of one client', async () => {
    const { token } = await unlimited.clientWithToken();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await unlimited.call('POST', `/v1/users/cap-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      statuses.push(r.status);
      if (r.status === 409) assert.equal(r.body.code, 'DEVICE_LIMIT_REACHED');
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 201, 409]);
  });
});
