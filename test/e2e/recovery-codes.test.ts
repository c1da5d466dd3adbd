import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';
import { AuditService } from '../../src/audit/audit.service.js';
import { LogSink, REDIS_URL, startApp, startTestApp, type TestApp } from '../support/harness.js';

type App = TestApp & { teardown(): Promise<void> };
let seq = 0;
const newUser = () => `rc-${process.pid}-${++seq}`;

describe('recovery codes and erasing a user (API.md §10), on two replicas', () => {
  let a: App;
  let b: TestApp;
  let token: string;
  let db: pg.Client;
  const logs = new LogSink();

  before(async () => {
    const settings = { RATE_LIMIT_PER_CLIENT_PER_SECOND: '0', LOCKOUT_SECONDS: '60', LOG_LEVEL: 'debug' };
    a = await startTestApp(settings, { logs });
    b = await startApp(a.env, settings, { logs, clock: a.clock });
    ({ token } = await a.clientWithToken());
    db = new pg.Client({ connectionString: a.env.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db.end();
    await b.close();
    await a.teardown();
  });

  async function create(userId: string, name = 'Phone'): Promise<{ authId: string; secret: string }> {
    const r = await a.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { authId: r.body.authId as string, secret: r.body.secret as string };
  }
  const activate = (app: TestApp, userId: string, authId: string, otp: string) =>
    app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp });
  const verify = (app: TestApp, userId: string, code: string) => app.call('POST', `/v1/users/${userId}/recovery-codes/verify`, token, { code });

  async function userWithCodes(): Promise<{ userId: string; codes: string[]; authId: string; secret: string; deviceId: string }> {
    const userId = newUser();
    const device = await create(userId);
    const r = await activate(a, userId, device.authId, a.code(device.secret));
    assert.equal(r.status, 200);
    return { userId, codes: r.body.recoveryCodes as string[], ...device, deviceId: r.body.deviceId as string };
  }

  it('issues 10 codes once, with the first device: 20 concurrent activations (two replicas, two devices) give one set', async () => {
    const userId = newUser();
    const first = await create(userId, 'First');
    const second = await create(userId, 'Second');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const device = i % 2 === 0 ? first : second;
        return activate(i % 4 < 2 ? a : b, userId, device.authId, a.code(device.secret));
      }),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 2, results.map((r) => r.status).join(','));
    const sets = ok.filter((r) => r.body.recoveryCodes !== undefined);
    assert.equal(sets.length, 1, 'exactly one activation carries the codes');
    const codes = sets[0].body.recoveryCodes as string[];
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1', [userId]);
    assert.equal(rows[0].n, 10);
    // A later device: no codes.
    const third = await create(userId, 'Third');
    const later = await activate(a, userId, third.authId, a.code(third.secret));
    assert.equal(later.status, 200);
    assert.equal(later.body.recoveryCodes, undefined);
    const state = await a.call('GET', `/v1/users/${userId}/recovery-codes`, token);
    assert.equal(state.body.remainingCodes, 10);
    assert.ok(!JSON.stringify(state.body).includes(codes[0]));
  });

  it('stores only keyed hashes, and never logs or lists a code', async () => {
    const { userId, codes } = await userWithCodes();
    await verify(a, userId, codes[0]);
    const dump = JSON.stringify((await db.query('SELECT * FROM recovery_codes WHERE user_id = $1', [userId])).rows);
    const events = await a.call('GET', `/v1/users/${userId}/events`, token);
    for (const code of codes) {
      for (const form of [code, code.replace('-', '')]) {
        assert.ok(!dump.includes(form) && !logs.text.includes(form) && !JSON.stringify(events.body).includes(form), `${form} leaked`);
      }
    }
  });

  it('accepts each code once, normalised, exactly once under 20 parallel uses on two replicas', async () => {
    const { userId, codes } = await userWithCodes();
    const typed = codes[0].toLowerCase().replace('-', ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => verify(i % 2 === 0 ? a : b, userId, typed)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.equal(ok[0].body.remainingCodes, 9);
    // The other 19 were refused: as used, or (while ten were in flight, which could all have been
    // guesses) as locked or too many at once. A replayed code counts as a wrong one: the user may
    // be locked now, until the lock period ends.
    for (const r of results.filter((x) => x.status !== 200))
      assert.ok(['INVALID_RECOVERY_CODE', 'USER_LOCKED', 'RATE_LIMITED'].includes(r.body.code as string), JSON.stringify(r.body));
    a.clock.advance(61_000);
    const next = await verify(b, userId, codes[1]);
    assert.equal(next.status, 200);
    assert.equal(next.body.remainingCodes, 8);
    const state = await a.call('GET', `/v1/users/${userId}/recovery-codes`, token);
    assert.equal(state.body.remainingCodes, 8);
    assert.notEqual(state.body.lastUsedAt, null);
    assert.equal((await verify(a, userId, 'not a code')).body.code, 'VALIDATION_FAILED');
  });

  it('locks the user after 10 wrong codes: of 100 parallel wrong codes on two replicas no more than 10 are compared', async () => {
    const { userId, codes } = await userWithCodes();
    const wrong = Array.from({ length: 100 }, (_, i) => `ZZZZZ-${String(i).padStart(5, '0')}`);
    const results = await Promise.all(wrong.map((code, i) => verify(i % 2 === 0 ? a : b, userId, code)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 400).length, 9, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 91, statuses.join(','));
    for (const r of results.filter((x) => x.status === 429)) {
      assert.ok(['USER_LOCKED', 'RATE_LIMITED'].includes(r.body.code as string), JSON.stringify(r.body));
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    const events = await db.query(`SELECT type, count(*)::int AS n FROM audit_events WHERE user_id = $1 GROUP BY type`, [userId]);
    const count = Object.fromEntries(events.rows.map((r: { type: string; n: number }) => [r.type, r.n]));
    assert.equal(count.RECOVERY_CODE_FAILED, 10, 'compared and failed: exactly 10');
    assert.equal(count.USER_LOCKED, 1);
    // Locked: even a right code is refused, and nothing is spent.
    assert.equal((await verify(a, userId, codes[0])).status, 429);
    a.clock.advance(61_000);
    const after = await verify(b, userId, codes[0]);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.remainingCodes, 9);
  });

  it('counts a code used before like a wrong one: rounds of 9 wrong codes and a spent one lock the user by the 11th attempt', async () => {
    const { userId, codes } = await userWithCodes();
    assert.equal((await verify(a, userId, codes[0])).status, 200);
    const results: Array<{ status: number; body: Record<string, unknown> }> = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) results.push(await verify(i % 2 === 0 ? a : b, userId, `ZZZZZ-${round}${String(i).padStart(4, '0')}`));
      results.push(await verify(round % 2 === 0 ? b : a, userId, codes[0]));
    }
    const statuses = results.map((r) => `${r.status}${r.status === 429 ? ` ${r.body.code as string}` : ''}`).join(',');
    const locked = results.findIndex((r) => r.status === 429);
    assert.ok(locked !== -1 && locked <= 10, `USER_LOCKED by the 11th attempt: ${statuses}`);
    assert.equal(results[locked]?.body.code, 'USER_LOCKED');
    assert.ok(
      results.slice(locked).every((r) => r.status === 429),
      `locked from then on: ${statuses}`,
    );
    const failed = await db.query<{ reason: string | null; n: number }>(
      `SELECT detail->>'reason' AS reason, count(*)::int AS n FROM audit_events WHERE user_id = $1 AND type = 'RECOVERY_CODE_FAILED' GROUP BY 1`,
      [userId],
    );
    const wrong = failed.rows.find((r) => r.reason === null)?.n ?? 0;
    const all = failed.rows.reduce((sum, r) => sum + r.n, 0);
    assert.ok(wrong <= 10 && all <= 10, `no more than 10 codes compared: ${JSON.stringify(failed.rows)}`);
    a.clock.advance(61_000);
    assert.equal((await verify(b, userId, codes[1])).status, 200);
  });

  it('holds the lock under 100 parallel codes on two replicas, a tenth of them a spent code: no more than 10 compared', async () => {
    const { userId, codes } = await userWithCodes();
    assert.equal((await verify(a, userId, codes[0])).status, 200);
    const attempts = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? codes[0] : `ZZZZZ-${String(i).padStart(5, '0')}`));
    const results = await Promise.all(attempts.map((code, i) => verify(i % 2 === 0 ? a : b, userId, code)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 400).length, 9, statuses.join(','));
    const events = await db.query<{ type: string; n: number }>(`SELECT type, count(*)::int AS n FROM audit_events WHERE user_id = $1 GROUP BY type`, [
      userId,
    ]);
    const count = Object.fromEntries(events.rows.map((r) => [r.type, r.n]));
    assert.equal(count.RECOVERY_CODE_FAILED, 10, 'wrong or spent, compared: exactly 10');
    assert.equal(count.USER_LOCKED, 1);
  });

  it('answers a flood of 300 codes for one user with 429 at once, never 503, while another user is served', async () => {
    const { userId } = await userWithCodes();
    const bystander = newUser();
    const flood = Array.from({ length: 300 }, (_, i) => verify(i % 2 === 0 ? a : b, userId, `ZZZZZ-${String(i).padStart(5, '0')}`));
    const served = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).call('GET', `/v1/users/${bystander}/devices`, token));
    const [floodResults, servedResults] = await Promise.all([Promise.all(flood), Promise.all(served)]);
    const statuses = new Set(floodResults.map((r) => r.status));
    assert.deepEqual([...statuses].sort(), [400, 429], [...statuses].join(','));
    assert.deepEqual([...new Set(servedResults.map((r) => r.status))], [200]);
  });

  it('regenerates: the old set dies at once, the new one works', async () => {
    const { userId, codes } = await userWithCodes();
    const r = await a.call('POST', `/v1/users/${userId}/recovery-codes`, token);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const fresh = r.body.recoveryCodes as string[];
    assert.equal(fresh.length, 10);
    assert.equal((await verify(b, userId, codes[0])).body.code, 'INVALID_RECOVERY_CODE');
    assert.equal((await verify(b, userId, fresh[0])).body.remainingCodes, 9);
  });

  it('regenerates while the user is locked: the lock stays in force for the new set too', async () => {
    const { userId } = await userWithCodes();
    for (let i = 0; i < 10; i++) await verify(a, userId, `ZZZZZ-${String(i).padStart(5, '0')}`);
    const r = await a.call('POST', `/v1/users/${userId}/recovery-codes`, token);
    assert.equal(r.status, 201);
    const fresh = r.body.recoveryCodes as string[];
    const refused = await verify(b, userId, fresh[0]);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'USER_LOCKED');
    a.clock.advance(61_000);
    const after = await verify(b, userId, fresh[0]);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.remainingCodes, 9);
  });

  it('keeps the codes when the last device is deleted: they are the way back in', async () => {
    const { userId, codes, deviceId } = await userWithCodes();
    assert.equal((await a.call('DELETE', `/v1/users/${userId}/devices/${deviceId}`, token)).status, 204);
    assert.deepEqual((await a.call('GET', `/v1/users/${userId}/devices`, token)).body.devices, []);
    const state = await b.call('GET', `/v1/users/${userId}/recovery-codes`, token);
    assert.equal(state.body.remainingCodes, 10);
    assert.equal(typeof state.body.createdAt, 'string');
    const used = await verify(a, userId, codes[0]);
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.remainingCodes, 9);
  });

  it('erases a user: nothing of theirs in Postgres or Redis, events kept without device names; other users untouched', async () => {
    // The user activates under an Idempotency-Key, asks for a login and answers it wrongly (a
    // login request, its counters and a kept answer in Redis), and has two pending registrations.
    const userId = newUser();
    const device = await create(userId);
    const idempotencyKey = `erase-${userId}`;
    const activation = [`/v1/users/${userId}/devices/${device.authId}/activate`, token, { otp: a.code(device.secret) }] as const;
    const activated = await a.call('POST', ...activation, { 'idempotency-key': idempotencyKey });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    const codes = activated.body.recoveryCodes as string[];
    const replayed = await b.call('POST', ...activation, { 'idempotency-key': idempotencyKey });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    const login = await a.call('POST', `/v1/users/${userId}/login-requests`, token, {});
    assert.equal(login.status, 201, JSON.stringify(login.body));
    const loginPath = `/v1/users/${userId}/login-requests/${login.body.requestId as string}`;
    const wrong = await b.call('POST', `${loginPath}/approve`, token, { deviceId: activated.body.deviceId, response: '00000000' });
    assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
    const other = await userWithCodes();
    await create(userId, 'Pending one');
    const { secret } = await create(userId, 'Pending two');
    assert.ok(secret);
    const erased = await a.call('DELETE', `/v1/users/${userId}`, token);
    assert.equal(erased.status, 204);
    for (const table of ['devices', 'recovery_codes', 'recovery_code_sets', 'user_device_counts']) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId]);
      assert.equal(rows[0].n, 0, table);
    }
    const { rows: named } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE user_id = $1 AND detail ? 'deviceName'`,
      [userId],
    );
    assert.equal(named[0].n, 0);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const leftovers: string[] = [];
    for await (const keys of redis.scanIterator({ MATCH: `${a.env.redisKeyPrefix}*`, COUNT: 1000 })) {
      for (const key of keys) {
        const type = await redis.type(key);
        const content =
          type === 'hash'
            ? JSON.stringify(await redis.hGetAll(key))
            : type === 'zset'
              ? JSON.stringify(await redis.zRange(key, 0, -1))
              : type === 'set'
                ? JSON.stringify(await redis.sMembers(key))
                : String(await redis.get(key));
        const traces = [userId, login.body.requestId as string, idempotencyKey, createHash('sha256').update(idempotencyKey).digest('hex')];
        if (traces.some((trace) => key.includes(trace) || content.includes(trace))) leftovers.push(key);
      }
    }
    await redis.close();
    assert.deepEqual(leftovers, []);
    assert.equal((await b.call('GET', loginPath, token)).status, 404);
    // The activation's kept answer (its codes) is gone: the same request runs afresh, and finds nothing.
    const again = await a.call('POST', ...activation, { 'idempotency-key': idempotencyKey });
    assert.equal(again.status, 404, JSON.stringify(again.body));
    assert.equal(again.headers.get('idempotent-replayed'), null);
    const list = await a.call('GET', `/v1/users/${userId}/devices`, token);
    assert.deepEqual(list.body.devices, []);
    assert.equal((await verify(a, userId, codes[1])).body.code, 'INVALID_RECOVERY_CODE');
    const events = (await a.call('GET', `/v1/users/${userId}/events`, token)).body.events as Array<{ type: string; detail: Record<string, unknown> }>;
    const erasure = events.find((e) => e.type === 'USER_ERASED');
    assert.deepEqual(erasure?.detail, { devices: 1, registrations: 2 });
    // Another user keeps everything; erasing again is harmless.
    assert.equal((await verify(b, other.userId, other.codes[0])).status, 200);
    assert.equal((await a.call('GET', `/v1/users/${other.userId}/devices`, token)).body.devices instanceof Array, true);
    assert.equal((await a.call('DELETE', `/v1/users/${userId}`, token)).status, 204);
    // The expiry sweep records nothing for what the erasure removed (two registrations, a login
    // request), and does for a registration made after it and for another user's.
    const later = await create(userId, 'After');
    const lapsing = await create(other.userId, 'Lapsing');
    a.clock.advance(11 * 60_000);
    await a.app.get(AuditService).sweepExpiries();
    const { rows: expiries } = await db.query<{ user_id: string; device_id: string; type: string }>(
      `SELECT user_id, device_id, type FROM audit_events WHERE user_id = ANY($1) AND type IN ('REGISTRATION_EXPIRED', 'LOGIN_EXPIRED') ORDER BY seq`,
      [[userId, other.userId]],
    );
    assert.deepEqual(
      expiries.map((e) => [e.user_id, e.device_id, e.type]).sort(),
      [
        [userId, later.authId, 'REGISTRATION_EXPIRED'],
        [other.userId, lapsing.authId, 'REGISTRATION_EXPIRED'],
      ].sort(),
    );
  });
});
