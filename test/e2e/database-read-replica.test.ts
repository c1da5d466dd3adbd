import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEnvironment, destroyEnvironment, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// The "replica" is the same database reached through a proxy the test can take away: what fails
// while it is gone reads from it; what keeps working does not.
describe('DATABASE_READ_URL: lists, single devices and events from the replica; verification and activation on the primary', () => {
  let env: TestEnvironment;
  let replica: TcpProxy;
  let app: TestApp;
  before(async () => {
    env = await createEnvironment();
    replica = new TcpProxy(5432);
    await replica.start();
    const readUrl = new URL(env.databaseUrl);
    readUrl.port = String(replica.port);
    app = await startApp(env, { DATABASE_READ_URL: readUrl.toString(), RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
  });
  after(async () => {
    await app.close();
    await replica.stop();
    await destroyEnvironment(env);
  });

  async function enrol(token: string, userId: string) {
    const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: `Phone ${Date.now()}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { authId, secret } = created.body as { authId: string; secret: string };
    const activated = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret, -30) });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    return { deviceId: authId, secret };
  }

  const reads = (deviceId: string) => [`/v1/users/reader/devices`, `/v1/users/reader/devices/${deviceId}`, `/v1/users/reader/events`];

  it('answers the reads from the replica (503 while it is gone), and verifies, activates and issues tokens without it', async () => {
    const { token, credentials } = await app.clientWithToken();
    const first = await enrol(token, 'reader');
    for (const path of reads(first.deviceId)) assert.equal((await app.call('GET', path, token)).status, 200, path);

    await replica.stop();
    try {
      for (const path of reads(first.deviceId)) {
        const r = await app.call('GET', path, token);
        assert.equal(r.status, 503, `${path} reads from the replica`);
        assert.equal(r.body.code, 'SERVICE_UNAVAILABLE');
      }
      assert.equal((await app.call('POST', `/v1/users/reader/devices/${first.deviceId}/verify`, token, { otp: app.code(first.secret) })).status, 200);
      app.clock.advance(30_000);
      assert.equal((await app.call('POST', '/v1/users/reader/verify', token, { otp: app.code(first.secret) })).status, 200);
      await enrol(token, 'reader');
      assert.ok(await app.token(credentials));
    } finally {
      await replica.restart();
    }
    for (const path of reads(first.deviceId)) assert.equal((await app.call('GET', path, token)).status, 200, path);
  });
});
