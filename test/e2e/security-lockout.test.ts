import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PendingStore } from '../../src/pending/pending.store.js';
import { LogSink, startApp, startTestApp, type TestApp } from '../support/harness.js';
import { sleep } from '../support/otp.js';

type App = TestApp & { teardown(): Promise<void> };
let seq = 0;
const newUser = () => `sec-${process.pid}-${++seq}`;
// A generous deadline: these tests are about the 429s, and the suite runs other files beside them on two cores.
const OVERRIDES = { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_SECONDS: '3', DEPENDENCY_TIMEOUT_MS: '3000' };

/** Distinct codes none of which is valid for the secret within ±2 steps of the app's time. */
function wrongCodes(app: TestApp, secret: string, n: number): string[] {
  const valid = new Set([-60, -30, 0, 30, 60].map((o) => app.code(secret, o)));
  const out = new Set<string>();
  while (out.size < n) {
    const c = String(randomInt(1_000_000)).padStart(6, '0');
    if (!valid.has(c)) out.add(c);
  }
  return [...out];
}

describe('limits under concurrency, on two replicas (issue 10)', () => {
  let a: App;
  let b: TestApp;
  let token: string;
  let clientId: string;
  let db: pg.Client;
  /** A replica whose statements may wait long (for the stalled-activation test). */
  let slow: TestApp;
  const logs = new LogSink();
  before(async () => {
    a = await startTestApp({ ...OVERRIDES, LOG_LEVEL: 'warn' }, { logs });
    b = await startApp(a.env, { ...OVERRIDES, LOG_LEVEL: 'warn' }, { logs, clock: a.clock });
    ({ token, clientId } = await a.clientWithToken());
    db = new pg.Client({ connectionString: a.env.databaseUrl });
    await db.connect();
    slow = await startApp(a.env, { ...OVERRIDES, DEPENDENCY_TIMEOUT_MS: '10000' }, { clock: a.clock });
  });
  after(async () => {
    await slow.close();
    await db.end();
    await b.close();
    await a.teardown();
  });

  const replica = (i: number) => (i % 2 === 0 ? a : b);
  async function activeDevice(userId: string, name = 'Phone') {
    const created = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
    const deviceId = created.body.authId as string;
    const secret = created.body.secret as string;
    assert.equal((await a.call('POST', `/v1/users/${userId}/devices/${deviceId}/activate`, token, { otp: a.code(secret, -30) })).status, 200);
    return { deviceId, secret };
  }
  const count = async (userId: string, type: string) =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events WHERE user_id = $1 AND type = $2', [userId, type])).rows[0].n);

  it('evaluates at most 10 wrong codes per lock period when 100 arrive at once; one lock, one event, a clean count after', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(userId);
    const path = `/v1/users/${userId}/devices/${deviceId}/verify`;
    const results = await Promise.all(wrongCodes(a, secret, 100).map((otp, i) => replica(i).call('POST', path, token, { otp })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 400).length, 9, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 91, statuses.join(','));
    assert.equal(await count(userId, 'VERIFICATION_FAILED'), 10);
    assert.equal(await count(userId, 'DEVICE_LOCKED'), 1);
    assert.equal((await a.call('POST', path, token, { otp: a.code(secret) })).status, 429, 'the right code is refused while locked');
    a.clock.advance(3100);
    // The lock ended with a clean count: one wrong code is one failure, not a new lock.
    assert.equal((await b.call('POST', path, token, { otp: wrongCodes(a, secret, 1)[0] })).status, 400);
    assert.equal((await a.call('POST', path, token, { otp: a.code(secret) })).status, 200);
  });

  it('answers a flood on one device, or one user, with 429 at once, never 503, and other requests are served meanwhile', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(userId);
    const otherUser = newUser();
    const other = await activeDevice(otherUser);
    const flood = [
      ...wrongCodes(a, secret, 400).map((otp, i) => replica(i).call('POST', `/v1/users/${userId}/devices/${deviceId}/verify`, token, { otp })),
      ...wrongCodes(a, secret, 400).map((otp, i) => replica(i).call('POST', `/v1/users/${userId}/verify`, token, { otp })),
    ];
    const bystander = await b.call('GET', `/v1/users/${newUser()}/devices`, token);
    const results = await Promise.all(flood);
    const statuses = results.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 400 || s === 429),
      [...new Set(statuses)].join(','),
    );
    assert.equal(await count(userId, 'VERIFICATION_FAILED'), 10);
    assert.equal(bystander.status, 200);
    assert.equal((await a.call('POST', `/v1/users/${otherUser}/devices/${other.deviceId}/verify`, token, { otp: a.code(other.secret) })).status, 200);
  });

  it('lets the right code among 100 parallel guesses win only if it is decided before the tenth failure', async () => {
    const userId = newUser();
    const { deviceId, secret } = await activeDevice(userId);
    const path = `/v1/users/${userId}/devices/${deviceId}/verify`;
    const guesses = wrongCodes(a, secret, 99);
    guesses.splice(randomInt(100), 0, a.code(secret));
    const results = await Promise.all(guesses.map((otp, i) => replica(i).call('POST', path, token, { otp })));
    const won = results.filter((r) => r.status === 200).length;
    const failures = await count(userId, 'VERIFICATION_FAILED');
    // A success resets the count, so at most 10 failures before it and 10 after it.
    assert.ok(won <= 1);
    assert.ok(won === 1 ? failures <= 19 : failures === 10, `won ${won}, failures ${failures}`);
    assert.ok((await count(userId, 'DEVICE_LOCKED')) <= 1);
  });

  it('answers 429 when a user-level verification locks the last unlocked device', async () => {
    const userId = newUser();
    const one = await activeDevice(userId, 'One');
    const two = await activeDevice(userId, 'Two');
    const [wrong] = wrongCodes(a, one.secret, 1);
    for (let i = 0; i < 10; i++) await a.call('POST', `/v1/users/${userId}/devices/${one.deviceId}/verify`, token, { otp: wrong });
    for (let i = 0; i < 9; i++) await a.call('POST', `/v1/users/${userId}/devices/${two.deviceId}/verify`, token, { otp: wrong });
    const r = await a.call('POST', `/v1/users/${userId}/verify`, token, { otp: wrongCodes(a, two.secret, 1)[0] });
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.equal(r.body.code, 'DEVICE_LOCKED');
  });

  it('never lets a delete of a pending registration answer 404 while its activation leaves an active device (40 races)', async () => {
    for (let round = 0; round < 40; round++) {
      const userId = newUser();
      const created = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      const authId = created.body.authId as string;
      const activation = b.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: a.code(created.body.secret as string) });
      await sleep(round % 4);
      const deletion = await a.call('DELETE', `/v1/users/${userId}/devices/${authId}`, token);
      const activated = await activation;
      const remaining = await a.call('GET', `/v1/users/${userId}/devices/${authId}`, token);
      assert.ok([204, 404, 409].includes(deletion.status), `round ${round}: delete ${deletion.status}`);
      if (deletion.status !== 409)
        assert.equal(remaining.status, 404, `round ${round}: delete ${deletion.status}, activation ${activated.status}, device still there`);
    }
  });

  it('takes the device back when its registration was deleted while the activation stalled past its lock', async () => {
    const userId = newUser();
    const created = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    const authId = created.body.authId as string;
    // Hold the user's slot row, so the activation's statement waits in Postgres.
    await db.query('INSERT INTO user_device_counts (client_id, user_id, active) VALUES ($1, $2, 0)', [clientId, userId]);
    const blocker = new pg.Client({ connectionString: a.env.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM user_device_counts WHERE client_id = $1 AND user_id = $2 FOR UPDATE', [clientId, userId]);
    const activation = slow.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: a.code(created.body.secret as string) });
    // Until its statement waits for the row.
    while (
      Number(
        (await db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
          .rows[0].n,
      ) === 0
    ) {
      await sleep(20);
    }
    // Meanwhile its lock lapsed and a delete removed the registration.
    assert.equal(await a.app.get(PendingStore).remove(clientId, userId, authId, { evenIfClaimed: true }), 'REMOVED');
    await blocker.query('COMMIT');
    await blocker.end();
    const r = await activation;
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.equal(r.body.code, 'REGISTRATION_NOT_FOUND');
    assert.equal((await a.call('GET', `/v1/users/${userId}/devices/${authId}`, token)).status, 404, 'no device left behind');
    assert.equal(
      Number(
        (await db.query<{ active: number }>('SELECT active FROM user_device_counts WHERE client_id = $1 AND user_id = $2', [clientId, userId]))
          .rows[0].active,
      ),
      0,
    );
  });

  it('fails only its own activation when a batch meets a row the database refuses, and logs no row data', async () => {
    const store = a.app.get(PendingStore);
    const other = await a.clientWithToken();
    for (let trial = 0; trial < 3; trial++) {
      // A registration whose name the database refuses (as stored before names were counted in code points).
      const badUser = newUser();
      const bad = await a.call('POST', `/v1/users/${badUser}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      assert.ok(await store.rename(clientId, bad.body.authId as string, 'a\ufe0f'.repeat(64)));
      const regs = await Promise.all(
        Array.from({ length: 30 }, async () => {
          const userId = newUser();
          const r = await a.call('POST', `/v1/users/${userId}/devices`, other.token, { deviceType: 'TOTP', deviceName: 'Phone' });
          return { userId, authId: r.body.authId as string, secret: r.body.secret as string };
        }),
      );
      const [badResult, ...results] = await Promise.all([
        b.call('POST', `/v1/users/${badUser}/devices/${bad.body.authId as string}/activate`, token, { otp: a.code(bad.body.secret as string) }),
        ...regs.map((r, i) =>
          replica(i + 1).call('POST', `/v1/users/${r.userId}/devices/${r.authId}/activate`, other.token, { otp: a.code(r.secret) }),
        ),
      ]);
      assert.equal(badResult.status, 400, JSON.stringify(badResult.body));
      assert.equal(badResult.body.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        results.map((r) => r.status),
        results.map(() => 200),
      );
    }
    assert.ok(!logs.text.includes('Failing row'), 'a database error with row data was logged');
    assert.ok(!/"detail":/.test(logs.text), 'a database error detail was logged');
  });

  it('counts each activation of a registration whose stored name the database refuses, and lets a rename fix it', async () => {
    const store = a.app.get(PendingStore);
    const userId = newUser();
    // Registrations as stored before names were counted in code points: as they are, they never activate.
    const stored = async () => {
      const r = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      const authId = r.body.authId as string;
      assert.ok(await store.rename(clientId, authId, 'a\ufe0f'.repeat(64)));
      return { authId, secret: r.body.secret as string };
    };
    const activate = (r: { authId: string; secret: string }) =>
      a.call('POST', `/v1/users/${userId}/devices/${r.authId}/activate`, token, { otp: a.code(r.secret) });
    const doomed = await stored();
    const attempts = a.config.limits.activationMaxAttempts;
    for (let i = 1; i < attempts; i++) {
      const r = await activate(doomed);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'VALIDATION_FAILED');
    }
    const last = await activate(doomed);
    assert.equal(last.status, 429, JSON.stringify(last.body));
    assert.equal(last.body.code, 'TOO_MANY_ATTEMPTS');
    assert.equal((await activate(doomed)).status, 404);
    // The way out the answer names: rename it, then activate.
    const fixable = await stored();
    assert.equal((await activate(fixable)).status, 400);
    assert.equal((await a.call('PATCH', `/v1/users/${userId}/devices/${fixable.authId}`, token, { deviceName: 'Tablet' })).status, 200);
    const activated = await activate(fixable);
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
  });

  it('refuses at create a name the database would refuse (64 code points at most, after NFC)', async () => {
    const userId = newUser();
    const tooLong = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'a\ufe0f'.repeat(64) });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.code, 'VALIDATION_FAILED');
    // 64 code points once composed: "e" + U+0301 is one code point after NFC.
    const composed = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'e\u0301'.repeat(64) });
    assert.equal(composed.status, 201, JSON.stringify(composed.body));
    const { secret, authId } = composed.body as { secret: string; authId: string };
    assert.equal((await a.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: a.code(secret) })).status, 200);
    const device = await a.call('GET', `/v1/users/${userId}/devices/${authId}`, token);
    assert.equal((device.body.device as { deviceName: string }).deviceName, '\u00e9'.repeat(64));
  });
});
