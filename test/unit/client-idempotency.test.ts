import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TotpClient, type TotpClientOptions } from '../../clients/typescript/src/index.js';

const USER = 'ada';
const ID = '0063f27c-787b-4046-8b8e-a75e241b5ea6';

/** A client against a fake service that answers every call 200 and records which POSTs carried a key. */
function clientRecordingKeys(options: Partial<TotpClientOptions> = {}): { totp: TotpClient; keyed: () => string[]; posts: () => string[] } {
  const posts: Array<{ path: string; key: string | null }> = [];
  const totp = new TotpClient({
    baseUrl: 'https://totp.example.com/base',
    clientId: 'id',
    clientSecret: 'secret',
    ...options,
    fetch: (request) => {
      const path = new URL(request.url).pathname.replace('/base', '').replaceAll(USER, '{userId}').replaceAll(ID, '{id}');
      if (path === '/oauth/token')
        return Promise.resolve(Response.json({ access_token: 't', token_type: 'Bearer', expires_in: 3600, scope: 'devices:write' }));
      if (request.method === 'POST') posts.push({ path, key: request.headers.get('idempotency-key') });
      return Promise.resolve(Response.json({}));
    },
  });
  return { totp, keyed: () => posts.filter((p) => p.key !== null).map((p) => p.path), posts: () => posts.map((p) => p.path) };
}

/** Every POST of the API, once. */
async function everyPost(totp: TotpClient): Promise<void> {
  await totp.createDevice(USER, { deviceType: 'TOTP', deviceName: 'Phone' });
  await totp.api.POST('/v1/users/{userId}/devices/import', {
    params: { path: { userId: USER } },
    body: { deviceName: 'Old', secret: 'JBSWY3DPEHPK3PXP' },
  });
  await totp.activateDevice(USER, ID, '123456');
  await totp.verifyDeviceOtp(USER, ID, '123456');
  await totp.api.POST('/v1/users/{userId}/devices/{deviceId}/resync', {
    params: { path: { userId: USER, deviceId: ID } },
    body: { otp1: '123456', otp2: '654321' },
  });
  await totp.verifyUserOtp(USER, '123456');
  await totp.regenerateRecoveryCodes(USER);
  await totp.verifyRecoveryCode(USER, 'abcd-efgh-ijkl');
  await totp.loginRequests.create(USER);
  await totp.loginRequests.approve(USER, ID, ID, '12345678');
  await totp.loginRequests.deny(USER, ID, ID, '12345678');
  await totp.loginRequests.redeem(USER, ID);
}

const ALL_POSTS = [
  '/v1/users/{userId}/devices',
  '/v1/users/{userId}/devices/import',
  '/v1/users/{userId}/devices/{id}/activate',
  '/v1/users/{userId}/devices/{id}/verify',
  '/v1/users/{userId}/devices/{id}/resync',
  '/v1/users/{userId}/verify',
  '/v1/users/{userId}/recovery-codes',
  '/v1/users/{userId}/recovery-codes/verify',
  '/v1/users/{userId}/login-requests',
  '/v1/users/{userId}/login-requests/{id}/approve',
  '/v1/users/{userId}/login-requests/{id}/deny',
  '/v1/users/{userId}/login-requests/{id}/redeem',
];

describe('typed client: which POSTs carry an Idempotency-Key', () => {
  it('by default, only those whose repetition would lose something: not OTP verification, resync, approve or deny', async () => {
    const { totp, keyed, posts } = clientRecordingKeys();
    await everyPost(totp);
    assert.deepEqual(posts(), ALL_POSTS);
    assert.deepEqual(keyed(), [
      '/v1/users/{userId}/devices',
      '/v1/users/{userId}/devices/import',
      '/v1/users/{userId}/devices/{id}/activate',
      '/v1/users/{userId}/recovery-codes',
      '/v1/users/{userId}/recovery-codes/verify',
      '/v1/users/{userId}/login-requests',
      '/v1/users/{userId}/login-requests/{id}/redeem',
    ]);
  });

  it("every POST with idempotencyKeys: 'all'; none with 'none' or when POSTs are not retried", async () => {
    const all = clientRecordingKeys({ idempotencyKeys: 'all' });
    await everyPost(all.totp);
    assert.deepEqual(all.keyed(), ALL_POSTS);
    for (const options of [{ idempotencyKeys: 'none' as const }, { retryUnsafe: false, idempotencyKeys: 'all' as const }]) {
      const none = clientRecordingKeys(options);
      await everyPost(none.totp);
      assert.deepEqual(none.keyed(), [], JSON.stringify(options));
    }
  });

  it('keeps a key the caller sets, whatever the mode', async () => {
    const { totp, keyed } = clientRecordingKeys({ idempotencyKeys: 'none' });
    await totp.api.POST('/v1/users/{userId}/verify', {
      params: { path: { userId: USER } },
      body: { otp: '123456' },
      headers: { 'Idempotency-Key': 'mine' },
    });
    assert.deepEqual(keyed(), ['/v1/users/{userId}/verify']);
  });
});
