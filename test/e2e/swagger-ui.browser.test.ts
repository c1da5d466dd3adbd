import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { freePort, startTestApp, type TestApp } from '../support/harness.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', 'test', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Runs one Swagger UI operation: expand, "Try it out", fill, "Execute"; returns the live response block. */
async function execute(page: Page, operationId: string, params: Record<string, string>, body?: unknown): Promise<Locator> {
  const block = page.locator(`[id$="-${operationId}"]`).first();
  await block.locator('.opblock-summary').first().click();
  await block.locator('button.try-out__btn').click();
  for (const [name, value] of Object.entries(params)) await block.locator(`input[placeholder="${name}"]`).fill(value);
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
  await block.locator('button.execute').click();
  const response = block.locator('.live-responses-table .response').first();
  try {
    await response.waitFor({ timeout: 15_000 });
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await block.screenshot({ path: join(ARTIFACTS, `swagger-ui-failed-${operationId}.png`) });
    throw error;
  }
  return response;
}

describe('Swagger UI in a real browser', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let browser: Browser;

  before(async () => {
    // Swagger UI sends its requests to the document's server, PUBLIC_URL: here, the real address.
    const port = await freePort();
    app = await startTestApp({ PUBLIC_URL: `http://127.0.0.1:${port}` }, { port });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await app.teardown();
  });

  it('authorizes with client credentials, creates a device, shows its QR code and activates it', async () => {
    const { clientId, clientSecret } = await app.createClient('devices:write devices:read otp:verify devices:import');
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    await page.goto(`${app.url}/docs`);

    await page.locator('.auth-wrapper button.authorize').click();
    const modal = page.locator('.modal-ux');
    await modal.locator('input#client_id_clientCredentials').fill(clientId);
    await modal.locator('input#client_secret_clientCredentials').fill(clientSecret);
    await modal.getByText('select all').click();
    await modal.locator('button.modal-btn.authorize').click();
    await modal.getByText('Logout').waitFor({ timeout: 10_000 });
    await modal.locator('button.btn-done').click();

    const created = await execute(page, 'createDevice', { userId: 'ada' }, { deviceType: 'TOTP', deviceName: 'Phone in the browser' });
    assert.equal((await created.locator('.response-col_status').textContent())?.trim(), '201');
    const body = JSON.parse((await created.locator('.response-col_description pre').first().textContent()) ?? '{}') as {
      authId: string;
      secret: string;
    };
    assert.match(body.authId, /^[0-9a-f-]{36}$/);

    const qr = await execute(page, 'getDeviceQrCode', { userId: 'ada', authId: body.authId });
    assert.equal((await qr.locator('.response-col_status').textContent())?.trim(), '200');
    const image = qr.locator('img');
    await image.waitFor({ timeout: 10_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await qr.screenshot({ path: join(ARTIFACTS, 'swagger-ui-qr.png') });
    assert.ok(((await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) ?? 0) > 100, 'the QR image rendered');

    const activated = await execute(page, 'activateDevice', { userId: 'ada', authId: body.authId }, { otp: app.code(body.secret) });
    assert.equal((await activated.locator('.response-col_status').textContent())?.trim(), '200');
    assert.match((await activated.textContent()) ?? '', /OTP has been validated successfully/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui.png'), fullPage: true });
    const devices = await app.call('GET', '/v1/users/ada/devices', await app.token({ clientId, clientSecret }));
    assert.equal((devices.body.devices as Array<{ status: string }>)[0].status, 'ACTIVE');
  });
});
