import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientsService } from '../../src/auth/clients.service.js';
import { PendingStore } from '../../src/pending/pending.store.js';
import { startTestApp, type TestApp } from '../support/harness.js';

describe('races and leftovers', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let token: string;
  let clientId: string;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    ({ token, clientId } = await app.clientWithToken());
  });
  after(() => app.teardown());

  const create = async (userId: string) => {
    const r = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    return { authId: r.body.authId as string, secret: r.body.secret as string };
  };

  it('does not delete a registration while an activation holds it (409), so the delete cannot lose to the activation', async () => {
    const { authId } = await create('race-user');
    const store = app.app.get(PendingStore);
    assert.equal((await store.claim(clientId, authId, 5000)).status, 'OK');
    const r = await app.call('DELETE', `/v1/users/race-user/devices/${authId}`, token);
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'ACTIVATION_IN_PROGRESS');
    await store.release(clientId, authId);
    assert.equal((await app.call('DELETE', `/v1/users/race-user/devices/${authId}`, token)).status, 204);
  });

  it('never shows the QR of, or re-activates, a registration left behind by an activation, even after the device is deleted', async () => {
    const { authId, secret } = await create('leftover-user');
    const store = app.app.get(PendingStore);
    const registration = (await store.get(clientId, authId))!;
    assert.equal((await app.call('POST', `/v1/users/leftover-user/devices/${authId}/activate`, token, { otp: app.code(secret, -30) })).status, 200);
    // As if removing it from Redis had failed after the device was stored:
    assert.equal(await store.create(registration, { perUser: 5, perClient: 100 }), 'OK');
    assert.equal((await app.call('GET', `/v1/users/leftover-user/devices/${authId}/qr`, token)).status, 404);
    assert.equal((await app.call('DELETE', `/v1/users/leftover-user/devices/${authId}`, token)).status, 204);
    const again = await app.call('POST', `/v1/users/leftover-user/devices/${authId}/activate`, token, { otp: app.code(secret) });
    assert.equal(again.status, 404);
  });

  it('stops accepting the tokens of a client once it is disabled', async () => {
    const other = await app.clientWithToken();
    assert.equal((await app.call('GET', '/v1/users/ada/devices', other.token)).status, 200);
    await app.app.get(ClientsService).disable(other.clientId);
    app.clock.advance(1100);
    const r = await app.call('GET', '/v1/users/ada/devices', other.token);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'INVALID_TOKEN');
  });

  it('answers 400, not 500, for a cursor past the range of the event sequence', async () => {
    const cursor = Buffer.from('9999999999999999999').toString('base64url');
    const r = await app.call('GET', `/v1/users/ada/events?cursor=${cursor}`, token);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'VALIDATION_FAILED');
  });
});
