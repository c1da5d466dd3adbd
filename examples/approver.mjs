#!/usr/bin/env node
// A reference phone for login by QR code (API.md §11), as the organisation's app and its backend
// would do it: read the QR payload (or decode the QR image), show what is being approved, compute
// the OCRA response (RFC 6287) with the device's secret, and call approve or deny.
//
//   node examples/approver.mjs --payload 'totp-login://approve?…' --secret JBSWY3DP… --device-id <uuid>
//   node examples/approver.mjs --qr login.png --secret … --device-id … --deny
// (--secret or TOTP_DEVICE_SECRET: the device's base32 secret, as the app stored it at enrolment)
//
// The app backend authenticates with its own client credentials (scope otp:verify):
// --client-id/--client-secret or TOTP_CLIENT_ID/TOTP_CLIENT_SECRET; --url or TOTP_URL
// (default http://localhost:3000). Exits 0 when the service took the decision.
// No dependencies beyond Node, except jsqr and pngjs for --qr.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The fields of a totp-login:// payload. */
export function parsePayload(text) {
  const url = new URL(text.trim());
  if (url.protocol !== 'totp-login:') throw new Error(`not a login payload: ${text}`);
  const fields = Object.fromEntries(url.searchParams);
  for (const name of ['requestId', 'userId', 'challenge', 'ocraSuite']) if (!fields[name]) throw new Error(`the payload has no ${name}`);
  // A QR code is untrusted input: it must not steer the backend's token to another route.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(fields.requestId))
    throw new Error('the payload has no valid requestId');
  if (!/^[A-Za-z0-9._@+-]{1,128}$/.test(fields.userId) || /^\.{1,2}$/.test(fields.userId)) throw new Error('the payload has no valid userId');
  return fields;
}

/** RFC 4648 base32, as authenticator apps store the secret (no padding, any case). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/**
 * OCRA for suites whose data input is a question only (OCRA-1:HOTP-SHA1|256|512-<digits>:Q{A|N|H}nn),
 * which is what the service advertises: HMAC over suite ‖ 0x00 ‖ question (128 bytes,
 * left-aligned, zero-filled), truncated as in HOTP.
 */
export function ocra(suiteText, key, question) {
  const match = /^OCRA-1:HOTP-(SHA1|SHA256|SHA512)-(\d{1,2}):Q([ANH])(\d\d)$/.exec(suiteText);
  if (match === null) throw new Error(`this phone does not support the suite ${suiteText}`);
  const [, hash, digitsText, format] = match;
  const digits = Number(digitsText);
  const hex = format === 'N' ? BigInt(question).toString(16) : format === 'A' ? Buffer.from(question, 'latin1').toString('hex') : question;
  const data = Buffer.concat([Buffer.from(suiteText, 'latin1'), Buffer.alloc(1), Buffer.from(hex.padEnd(256, '0'), 'hex')]);
  const mac = createHmac(hash.toLowerCase(), key).update(data).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

/** The text of the QR code in a PNG (jsqr and pngjs, development dependencies of this project). */
export async function decodeQrPng(path) {
  const [{ PNG }, { default: jsQR }] = await Promise.all([import('pngjs'), import('jsqr')]);
  const png = PNG.sync.read(readFileSync(path));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (code === null) throw new Error(`no QR code found in ${path}`);
  return code.data;
}

async function call(base, path, init) {
  const response = await fetch(new URL(path, base), init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : JSON.parse(text) };
}

async function main() {
  const { values } = parseArgs({
    options: {
      payload: { type: 'string' },
      qr: { type: 'string' },
      // Or TOTP_DEVICE_SECRET, so the secret does not show in the process list.
      secret: { type: 'string', default: process.env.TOTP_DEVICE_SECRET },
      'device-id': { type: 'string' },
      deny: { type: 'boolean', default: false },
      url: { type: 'string', default: process.env.TOTP_URL ?? 'http://localhost:3000' },
      'client-id': { type: 'string', default: process.env.TOTP_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.TOTP_CLIENT_SECRET },
    },
  });
  const required = ['secret', 'device-id', 'client-id', 'client-secret'].filter((name) => !values[name]);
  if ((!values.payload && !values.qr) || required.length > 0) {
    process.stderr.write(
      'usage: approver.mjs (--payload URI | --qr FILE.png) --secret BASE32 --device-id UUID [--deny] [--url URL] --client-id ID --client-secret SECRET\n',
    );
    process.exit(2);
  }
  const payload = parsePayload(values.payload ?? (await decodeQrPng(values.qr)));
  const basic = Buffer.from(`${values['client-id']}:${values['client-secret']}`).toString('base64');
  const grant = await call(values.url, '/oauth/token', {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=otp%3Averify',
  });
  if (grant.status !== 200) throw new Error(`token: ${grant.status} ${JSON.stringify(grant.body)}`);
  const headers = { authorization: `Bearer ${grant.body.access_token}`, 'content-type': 'application/json' };
  const base = `/v1/users/${encodeURIComponent(payload.userId)}/login-requests/${payload.requestId}`;

  // What the phone shows before the user decides.
  const shown = await call(values.url, base, { headers });
  if (shown.status !== 200) throw new Error(`login request: ${shown.status} ${JSON.stringify(shown.body)}`);
  const { message, ip, userAgent } = shown.body.display ?? {};
  process.stdout.write(`${payload.issuer ?? 'Login'} for ${payload.userId}: ${message ?? 'log in'} (from ${ip ?? '?'}, ${userAgent ?? '?'})\n`);

  const response = ocra(payload.ocraSuite, base32Decode(values.secret), payload.challenge);
  const decision = values.deny ? 'deny' : 'approve';
  const result = await call(values.url, `${base}/${decision}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ deviceId: values['device-id'], response }),
  });
  process.stdout.write(`${decision}: ${result.status} ${JSON.stringify(result.body)}\n`);
  process.exit(result.status === 200 ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    process.stderr.write(`approver: ${error.message}\n`);
    process.exit(1);
  });
}
