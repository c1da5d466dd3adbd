import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { toBase32 } from '../../src/totp/totp.js';
import { REDIS_URL, startTestApp, type TestApp } from '../support/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'import.cli.js');
const newSecret = () => toBase32(randomBytes(20));

describe('importing existing authenticators (API.md §12)', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let token: string;
  let clientId: string;
  const dir = mkdtempSync(join(tmpdir(), 'totp-import-'));

  before(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_CLIENT_PER_SECOND: '0' });
    ({ token, clientId } = await app.clientWithToken('devices:import devices:read otp:verify'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await app.teardown();
  });

  const importDevice = (userId: string, body: Record<string, unknown>, bearer = token) =>
    app.call('POST', `/v1/users/${userId}/devices/import`, bearer, body);

  it('imports an ACTIVE device that verifies at once; with otp only if it verifies, and that step is spent', async () => {
    const secret = newSecret();
    const wrong = await importDevice('ada', { deviceName: 'Old phone', secret, otp: app.wrongCode(secret) });
    assert.deepEqual([wrong.status, wrong.body.code], [400, 'INVALID_OTP']);
    const otp = app.code(secret);
    const imported = await importDevice('ada', { deviceName: 'Old phone', secret: secret.toLowerCase(), otp, externalId: 'legacy-1' });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    assert.ok(!JSON.stringify(imported.body).toLowerCase().includes(secret.toLowerCase()), 'the secret is never echoed');
    const deviceId = imported.body.deviceId as string;
    const replay = await app.call('POST', `/v1/users/ada/devices/${deviceId}/verify`, token, { otp });
    assert.equal(replay.status, 400, 'the importing code cannot log in');
    app.clock.advance(30_000);
    assert.equal((await app.call('POST', `/v1/users/ada/devices/${deviceId}/verify`, token, { otp: app.code(secret) })).status, 200);
    const listed = await app.call('GET', '/v1/users/ada/devices', token);
    assert.deepEqual(
      (listed.body.devices as Array<{ deviceId: string; status: string }>).map((d) => [d.deviceId, d.status]),
      [[deviceId, 'ACTIVE']],
    );
    const events = await app.call('GET', '/v1/users/ada/events', token);
    const event = (events.body.events as Array<{ type: string; detail: Record<string, unknown> }>).find((e) => e.type === 'DEVICE_IMPORTED');
    assert.deepEqual(event?.detail, { deviceName: 'Old phone', externalId: 'legacy-1' });
    const again = await importDevice('ada', { deviceName: 'Another name', secret: newSecret(), externalId: 'legacy-1' });
    assert.deepEqual([again.status, again.body.code], [409, 'DEVICE_ALREADY_IMPORTED']);
    // Concurrent imports of one externalId: one is imported, the others are told it exists.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => importDevice(`race-${i}`, { deviceName: 'Phone', secret: newSecret(), externalId: 'legacy-race' })),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    assert.ok(racing.filter((r) => r.status === 409).every((r) => r.body.code === 'DEVICE_ALREADY_IMPORTED'));
  });

  it('imports with its own parameters (SHA256 / 8 digits / 60 s) and stores the secret only encrypted', async () => {
    const secret = toBase32(randomBytes(32));
    const imported = await importDevice('grace', { deviceName: 'Token', secret, algorithm: 'SHA256', digits: 8, period: 60 });
    assert.equal(imported.status, 201);
    const db = new pg.Client({ connectionString: app.env.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ algorithm: string; digits: number; period: number; sealed_secret: string }>(
        'SELECT algorithm, digits, period, sealed_secret FROM devices WHERE id = $1',
        [imported.body.deviceId],
      );
      assert.deepEqual([rows[0]?.algorithm, rows[0]?.digits, rows[0]?.period], ['SHA256', 8, 60]);
      assert.ok(!rows[0]?.sealed_secret.includes(secret) && !rows[0]?.sealed_secret.includes(Buffer.from(secret).toString('base64')));
    } finally {
      await db.end();
    }
  });

  it('refuses bad secrets and parameters with 400 naming the field, and imports nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ deviceName: 'X', secret: 'JBSWY3DP' }, 'secret'], // 5 bytes
      [{ deviceName: 'X', secret: '0189'.repeat(8) }, 'secret'], // not base32
      [{ deviceName: 'X', secret: toBase32(randomBytes(65)) }, 'secret'],
      [{ deviceName: 'X', secret: newSecret(), digits: 7 }, 'digits'],
      [{ deviceName: 'X', secret: newSecret(), algorithm: 'MD5' }, 'algorithm'],
      [{ deviceName: 'X', secret: newSecret(), period: 5 }, 'period'],
      [{ deviceName: '', secret: newSecret() }, 'deviceName'],
      [{ deviceName: 'X', secret: newSecret(), externalId: 'has space' }, 'externalId'],
      [{ deviceName: 'X' }, 'secret'],
    ];
    for (const [body, field] of cases) {
      const r = await importDevice('henry', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(
        (r.body.errors as Array<{ field: string }>).some((e) => e.field === field),
        `${field}: ${JSON.stringify(r.body)}`,
      );
    }
    assert.deepEqual((await app.call('GET', '/v1/users/henry/devices', token)).body.devices, []);
  });

  it("keeps tenants apart: another client's import for the same user id is its own; the scope is devices:import", async () => {
    const other = await app.clientWithToken('devices:import devices:read');
    assert.equal((await importDevice('ivy', { deviceName: 'Phone', secret: newSecret() }, other.token)).status, 201);
    assert.deepEqual((await app.call('GET', '/v1/users/ivy/devices', token)).body.devices, []);
    assert.equal((await importDevice('ivy', { deviceName: 'Phone', secret: newSecret() })).status, 201, 'the same name is free in this tenant');
    const writer = await app.clientWithToken('devices:write');
    const refused = await importDevice('ivy', { deviceName: 'Other', secret: newSecret() }, writer.token);
    assert.deepEqual([refused.status, refused.body.code], [403, 'INSUFFICIENT_SCOPE']);
  });

  it('bulk-imports 50,000 lines with a report of the bad ones; a second run imports nothing and reports all as existing', async () => {
    const file = join(dir, 'devices.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      lines.push(
        JSON.stringify({
          externalId: `bulk-${i}`,
          userId: `bulk-user-${i % 20_000}`,
          deviceName: `Phone ${Math.floor(i / 20_000)}`,
          secret: newSecret(),
        }),
      );
    }
    lines[10] = '{not json';
    lines[20] = JSON.stringify({ externalId: 'bad-secret', userId: 'x', deviceName: 'X', secret: 'short' });
    lines[30] = JSON.stringify({ userId: 'x', deviceName: 'X', secret: newSecret() });
    lines[40] = JSON.stringify({ externalId: 'bulk-5', userId: 'someone-else', deviceName: 'Other', secret: newSecret() });
    // With a byte-order mark, as some editors write UTF-8.
    writeFileSync(file, `\uFEFF${lines.join('\n')}\n`);
    const env = { PATH: process.env.PATH, DATABASE_URL: app.env.databaseUrl, REDIS_URL, ENCRYPTION_KEY: app.env.encryptionKey };
    const run = () =>
      spawnSync(process.execPath, [CLI, '--client', clientId, '--file', file], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

    const first = run();
    assert.equal(first.status, 2, first.stderr);
    assert.match(first.stderr, /\[#{30}\] 100% 50000 lines/, 'a progress bar');
    const summary = JSON.parse(first.stdout) as {
      lines: number;
      imported: number;
      existing: number;
      failed: number;
      perSecond: number;
      seconds: number;
    };
    assert.deepEqual([summary.lines, summary.imported, summary.existing, summary.failed], [50_000, 49_996, 0, 4]);
    console.log(`bulk import: 50,000 lines in ${summary.seconds} s (${summary.perSecond} lines/s)`);
    const report = readFileSync(`${file}.errors.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; error: string });
    assert.deepEqual(
      report.map((r) => r.line),
      [11, 21, 31, 41],
    );
    assert.match(report[1].error, /^secret: /);
    assert.match(report[3].error, /earlier line/);

    const second = run();
    const again = JSON.parse(second.stdout) as typeof summary;
    assert.deepEqual([again.imported, again.existing, again.failed], [0, 49_996, 4]);

    const db = new pg.Client({ connectionString: app.env.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM devices WHERE client_id = $1 AND external_id LIKE 'bulk-%'", [
        clientId,
      ]);
      assert.equal(Number(rows[0]?.n), 49_996);
      const counts = await db.query<{ n: string }>(
        "SELECT sum(active) AS n FROM user_device_counts WHERE client_id = $1 AND user_id LIKE 'bulk-user-%'",
        [clientId],
      );
      assert.equal(Number(counts.rows[0]?.n), 49_996, 'the per-user counts match the devices');
    } finally {
      await db.end();
    }
  });
});
