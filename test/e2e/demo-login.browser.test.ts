import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { type Running, startEmbedded, stop } from '../support/embedded.js';
import { freePort } from '../support/harness.js';
import { codeFor } from '../support/otp.js';
import { ResponseCheck } from '../support/response-check.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const APPROVER = join(ROOT, 'examples', 'approver.mjs');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the login-by-QR demo page of the embedded mode, in a real browser', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'totp-demo-'));
  const demo = { DEMO_CLIENT_ID: randomUUID(), DEMO_CLIENT_SECRET: 'demo-secret-for-the-demo-login-browser-test' };
  let running: Running;
  let browser: Browser;

  before(async () => {
    running = await startEmbedded(dataDir, await freePort(), demo);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    if (running !== undefined) await stop(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The test's own API calls (not the browser's, nor the example approver's), checked against the served document. */
  async function enrolDemoDevice(): Promise<{ deviceId: string; secret: string }> {
    const responses = new ResponseCheck(running.url);
    const basic = `Basic ${Buffer.from(`${demo.DEMO_CLIENT_ID}:${demo.DEMO_CLIENT_SECRET}`).toString('base64')}`;
    const grant = await responses.fetch('/oauth/token', {
      method: 'POST',
      headers: { authorization: basic },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    const { access_token: token } = (await grant.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = (await (
      await responses.fetch('/v1/users/demo/devices', {
        method: 'POST',
        headers,
        body: JSON.stringify({ deviceType: 'TOTP', deviceName: 'Demo phone' }),
      })
    ).json()) as { authId: string; secret: string };
    const activated = await responses.fetch(`/v1/users/demo/devices/${created.authId}/activate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ otp: codeFor(created.secret) }),
    });
    assert.equal(activated.status, 200);
    responses.assertNoProblems();
    return { deviceId: created.authId, secret: created.secret };
  }

  it('explains how to enrol when the user has no device yet', async () => {
    const page = await browser.newPage();
    await page.goto(`${running.url}/demo/login?userId=nobody-yet`);
    assert.match((await page.locator('h1').textContent()) ?? '', /has no active device yet/);
    await page.close();
  });

  it('shows the QR code of a login request and flips to approved when the reference phone approves it', async () => {
    const device = await enrolDemoDevice();
    const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    await page.goto(`${running.url}/demo/login?userId=demo`);
    const qr = page.locator('img#qr');
    await qr.waitFor();
    assert.ok(
      await qr.evaluate(
        (img) =>
          (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 0,
      ),
      'the QR image loaded',
    );
    assert.equal(await page.locator('#status').getAttribute('class'), 'PENDING');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-login-pending.png') });

    const payload = (await page.locator('#payload').textContent()) ?? '';
    assert.match(payload, /^totp-login:\/\/approve\?/);
    const { stdout } = await promisify(execFile)(process.execPath, [
      APPROVER,
      '--url',
      running.url,
      '--client-id',
      demo.DEMO_CLIENT_ID,
      '--client-secret',
      demo.DEMO_CLIENT_SECRET,
      '--payload',
      payload,
      '--secret',
      device.secret,
      '--device-id',
      device.deviceId,
    ]);
    assert.match(stdout, /Log in to the demo page/);
    assert.match(stdout, /approve: 200 /);

    await page.locator('#status.APPROVED').waitFor({ timeout: 5000 });
    assert.match((await page.locator('#status').textContent()) ?? '', /you are logged in/);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-login-approved.png') });
    assert.notDeepEqual(readFileSync(join(ARTIFACTS, 'demo-login-pending.png')), readFileSync(join(ARTIFACTS, 'demo-login-approved.png')));
    await page.close();
  });
});
