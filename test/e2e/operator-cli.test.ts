import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REDIS_URL, startTestApp, type TestApp } from '../support/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'clients.cli.js');

describe('operator CLI (npm run client:*)', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let env: NodeJS.ProcessEnv;
  before(async () => {
    app = await startTestApp();
    env = { PATH: process.env.PATH, DATABASE_URL: app.env.databaseUrl, REDIS_URL, ENCRYPTION_KEY: app.env.encryptionKey };
  });
  after(() => app.teardown());

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const tokenStatus = async (clientId: string, clientSecret: string) =>
    (
      await app.fetch('/oauth/token', {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      })
    ).status;

  it('creates a client and prints its id and secret once, as one JSON object; the secret works', async () => {
    const r = cli('create', '--name', 'Acme web', '--scopes', 'devices:write devices:read otp:verify');
    assert.equal(r.code, 0, r.err);
    const created = JSON.parse(r.out) as { clientId: string; clientSecret: string };
    assert.deepEqual(Object.keys(created).sort(), ['clientId', 'clientSecret']);
    assert.ok(created.clientSecret.length >= 43);
    assert.equal(await tokenStatus(created.clientId, created.clientSecret), 200);

    const listed = JSON.parse(cli('list').out) as Array<Record<string, unknown>>;
    const entry = listed.find((c) => c.clientId === created.clientId);
    assert.deepEqual(entry?.scopes, ['devices:write', 'devices:read', 'otp:verify']);
    assert.ok(!cli('list').out.includes(created.clientSecret), 'list never shows a secret');
  });

  it('rotates a secret (the old one stops working) and disables a client', async () => {
    const created = JSON.parse(cli('create', '--name', 'Rotating', '--scopes', 'otp:verify').out) as { clientId: string; clientSecret: string };
    const rotated = JSON.parse(cli('rotate-secret', '--client-id', created.clientId).out) as { clientId: string; clientSecret: string };
    assert.notEqual(rotated.clientSecret, created.clientSecret);
    app.clock.advance(1100); // client rows are cached for at most a second
    assert.equal(await tokenStatus(created.clientId, created.clientSecret), 401);
    assert.equal(await tokenStatus(created.clientId, rotated.clientSecret), 200);
    assert.equal(cli('disable', '--client-id', created.clientId).code, 0);
    app.clock.advance(1100);
    assert.equal(await tokenStatus(created.clientId, rotated.clientSecret), 400);
  });

  it('refuses bad input with a usage message and exit code 1', () => {
    for (const args of [
      ['create', '--name', 'x', '--scopes', 'admin'],
      ['create', '--scopes', 'otp:verify'],
      ['disable', '--client-id', 'nope'],
      ['frobnicate'],
      ['create', '--bogus'],
    ]) {
      const r = cli(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, /Usage:/);
    }
  });
});
