import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAIN, startEmbedded, stop } from '../support/embedded.js';
import { codeFor } from '../support/otp.js';
import { ResponseCheck } from '../support/response-check.js';

describe('embedded mode (npm start with no configuration)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'totp-embedded-'));
  const demo = { DEMO_CLIENT_ID: randomUUID(), DEMO_CLIENT_SECRET: 'demo-secret-for-the-embedded-mode-test-0123' };
  const port = 20000 + Math.floor(Math.random() * 20000);
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts without Postgres or Redis configured, prints the demo client, serves /docs, and a device can be enrolled; data survives a restart', async () => {
    let running = await startEmbedded(dataDir, port, demo);
    // The embedded service serves the same document: every answer here is checked against it.
    let responses = new ResponseCheck(running.url);
    assert.match(running.output(), /NOT FOR PRODUCTION/);
    assert.ok(running.output().includes(demo.DEMO_CLIENT_ID) && running.output().includes(demo.DEMO_CLIENT_SECRET));
    assert.match(running.output(), /curl -s -u '.+' -d grant_type=client_credentials http:\/\/localhost:\d+\/oauth\/token/);
    assert.equal((await responses.fetch('/docs')).status, 200);
    assert.equal((await responses.fetch('/health/ready')).status, 200);

    const basic = `Basic ${Buffer.from(`${demo.DEMO_CLIENT_ID}:${demo.DEMO_CLIENT_SECRET}`).toString('base64')}`;
    const tokenResponse = await responses.fetch('/oauth/token', {
      method: 'POST',
      headers: { authorization: basic },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = (await (
      await responses.fetch('/v1/users/ada/devices', {
        method: 'POST',
        headers,
        body: JSON.stringify({ deviceType: 'TOTP', deviceName: 'Phone' }),
      })
    ).json()) as { authId: string; secret: string };
    const activated = await responses.fetch(`/v1/users/ada/devices/${created.authId}/activate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ otp: codeFor(created.secret) }),
    });
    assert.equal(activated.status, 200);

    assert.equal(await stop(running), 0, 'SIGTERM exits 0');
    // A new DEMO_CLIENT_SECRET on restart becomes the demo client's secret.
    const newSecret = 'another-demo-secret-for-the-embedded-mode-test';
    responses.assertNoProblems();
    running = await startEmbedded(dataDir, port, { ...demo, DEMO_CLIENT_SECRET: newSecret });
    responses = new ResponseCheck(running.url);
    try {
      const again = await responses.fetch('/oauth/token', {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${demo.DEMO_CLIENT_ID}:${newSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      assert.equal(again.status, 200);
      const listed = (await (await responses.fetch('/v1/users/ada/devices', { headers })).json()) as {
        devices: Array<{ deviceId: string; status: string }>;
      };
      assert.deepEqual(
        listed.devices.map((d) => [d.deviceId, d.status]),
        [[created.authId, 'ACTIVE']],
        'the token and the device survive the restart',
      );
      responses.assertNoProblems();
    } finally {
      await stop(running);
    }
  });

  it('refuses to start in production without DATABASE_URL and REDIS_URL, naming them', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(output, /DATABASE_URL and REDIS_URL are required when NODE_ENV=production/);
  });
});
