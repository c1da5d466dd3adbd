import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REDIS_URL, startTestApp, type TestApp } from '../support/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'clients.cli.js');

/** The code oathtool (an independent implementation) computes for this secret and policy at `unixSeconds`. */
function oathtool(secret: string, policy: { algorithm: string; digits: number; period: number }, unixSeconds: number): string {
  const args = [`--totp=${policy.algorithm.toLowerCase()}`, `--digits=${policy.digits}`, `--time-step-size=${policy.period}s`, '--base32', secret];
  return execFileSync('oathtool', [...args, '--now', `@${Math.floor(unixSeconds)}`], { encoding: 'utf8' }).trim();
}

describe('tenant policy per client (API.md §12)', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let env: NodeJS.ProcessEnv;
  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    env = { PATH: process.env.PATH, DATABASE_URL: app.env.databaseUrl, REDIS_URL, ENCRYPTION_KEY: app.env.encryptionKey };
  });
  after(() => app.teardown());

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  // The client cache holds a client for a second of the service's clock.
  const policyTakesEffect = () => app.clock.advance(1100);
  const now = () => app.clock.nowMs() / 1000;

  it('enrols and verifies SHA256 / 8 digits / 60 s devices with codes from oathtool; a device keeps its policy after a change', async () => {
    const { token, clientId } = await app.clientWithToken();
    const set = cli('policy', clientId, '--algorithm', 'sha256', '--digits', '8', '--period', '60', '--issuer', 'Acme Bank');
    assert.equal(set.code, 0, set.err);
    assert.deepEqual((JSON.parse(set.out) as { overrides: unknown }).overrides, { algorithm: 'SHA256', digits: 8, period: 60, issuer: 'Acme Bank' });
    assert.match(set.err, /Google Authenticator ignores/);
    policyTakesEffect();

    const policy = await app.call('GET', '/v1/policy', token);
    assert.equal(policy.status, 200);
    assert.deepEqual(policy.body.policy, {
      algorithm: 'SHA256',
      digits: 8,
      period: 60,
      window: 1,
      issuer: 'Acme Bank',
      maxPendingPerUser: 5,
      maxActivePerUser: 10,
    });

    const created = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: 'Phone' });
    assert.equal(created.status, 201);
    const uri = new URL(created.body.registrationUri as string);
    assert.deepEqual(
      ['algorithm', 'digits', 'period', 'issuer'].map((p) => uri.searchParams.get(p)),
      ['SHA256', '8', '60', 'Acme Bank'],
    );
    const secret = created.body.secret as string;
    const sha256 = { algorithm: 'SHA256', digits: 8, period: 60 };
    const authId = created.body.authId as string;
    const activated = await app.call('POST', `/v1/users/ada/devices/${authId}/activate`, token, { otp: oathtool(secret, sha256, now()) });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));

    // The policy changes: new devices get SHA1 / 6 / 30 s; this one keeps SHA256 / 8 / 60 s.
    assert.equal(cli('policy', clientId, '--reset').code, 0);
    policyTakesEffect();
    app.clock.advance(60_000);
    const verified = await app.call('POST', `/v1/users/ada/devices/${authId}/verify`, token, { otp: oathtool(secret, sha256, now()) });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const sixDigits = await app.call('POST', `/v1/users/ada/devices/${authId}/verify`, token, {
      otp: oathtool(secret, { algorithm: 'SHA1', digits: 6, period: 30 }, now()),
    });
    assert.equal(sixDigits.status, 400);
    const next = await app.call('POST', '/v1/users/ada/devices', token, { deviceType: 'TOTP', deviceName: 'Tablet' });
    const nextUri = new URL(next.body.registrationUri as string);
    assert.deepEqual(
      ['algorithm', 'digits', 'period'].map((p) => nextUri.searchParams.get(p)),
      ['SHA1', '6', '30'],
    );
    const nextActivated = await app.call('POST', `/v1/users/ada/devices/${next.body.authId as string}/activate`, token, {
      otp: oathtool(next.body.secret as string, { algorithm: 'SHA1', digits: 6, period: 30 }, now()),
    });
    assert.equal(nextActivated.status, 200);
  });

  it("holds the client's window and device limits; other clients keep the service's", async () => {
    const { token, clientId } = await app.clientWithToken();
    const other = await app.clientWithToken();
    assert.equal(cli('policy', clientId, '--window', '0', '--max-pending', '1', '--max-active', '1').code, 0);
    policyTakesEffect();
    const first = await app.call('POST', '/v1/users/grace/devices', token, { deviceType: 'TOTP', deviceName: 'Phone' });
    const second = await app.call('POST', '/v1/users/grace/devices', token, { deviceType: 'TOTP', deviceName: 'Tablet' });
    assert.deepEqual([first.status, second.status, second.body.code], [201, 409, 'DEVICE_LIMIT_REACHED']);
    const sha1 = { algorithm: 'SHA1', digits: 6, period: 30 };
    // Window 0: the previous step's code is refused, the current one accepted.
    const previous = await app.call('POST', `/v1/users/grace/devices/${first.body.authId as string}/activate`, token, {
      otp: oathtool(first.body.secret as string, sha1, now() - 30),
    });
    assert.equal(previous.status, 400);
    const current = await app.call('POST', `/v1/users/grace/devices/${first.body.authId as string}/activate`, token, {
      otp: oathtool(first.body.secret as string, sha1, now()),
    });
    assert.equal(current.status, 200);
    const third = await app.call('POST', '/v1/users/grace/devices', token, { deviceType: 'TOTP', deviceName: 'Laptop' });
    assert.deepEqual([third.status, third.body.code], [409, 'DEVICE_LIMIT_REACHED'], 'one active device at most');
    for (const name of ['A', 'B']) {
      assert.equal((await app.call('POST', '/v1/users/grace/devices', other.token, { deviceType: 'TOTP', deviceName: name })).status, 201);
    }
    const theirs = await app.call('GET', '/v1/policy', other.token);
    assert.deepEqual(
      [theirs.body.policy as Record<string, unknown>].map((p) => [p.window, p.maxPendingPerUser]),
      [[1, 5]],
    );
  });

  it('refuses bad policy values, naming each; shows the policy in client:list; GET /v1/policy needs a token of any scope', async () => {
    const { clientId } = await app.createClient('otp:verify');
    const bad = cli('policy', clientId, '--digits', '7', '--period', '45', '--window', '4', '--algorithm', 'MD5');
    assert.equal(bad.code, 1);
    for (const name of ['--digits', '--period', '--window', '--algorithm']) assert.match(bad.err, new RegExp(name));
    assert.equal(cli('policy', clientId, '--digits', '8').code, 0);
    const listed = (JSON.parse(cli('list').out) as Array<{ clientId: string; policy: unknown; effectivePolicy: { digits: number } }>).find(
      (c) => c.clientId === clientId,
    );
    assert.deepEqual([listed?.policy, listed?.effectivePolicy.digits], [{ digits: 8 }, 8]);
    assert.equal(cli('policy', '00000000-0000-4000-8000-000000000000', '--digits', '8').code, 1);
    const readOnly = await app.clientWithToken('otp:verify');
    assert.equal((await app.call('GET', '/v1/policy', readOnly.token)).status, 200);
    assert.equal((await app.call('GET', '/v1/policy', undefined)).status, 401);
  });
});
