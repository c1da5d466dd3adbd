import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Document, OpenApiCheck } from '../support/openapi-check.js';

// The committed document (a test keeps it equal to the one the service serves).
const document = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'openapi.json'), 'utf8')) as Document;
const check = new OpenApiCheck(document);

const CREATE = 'http://localhost:3000/v1/users/ada/devices';
const ACTIVATE = 'http://localhost:3000/v1/users/ada/devices/0063f27c-787b-4046-8b8e-a75e241b5ea6/activate';
const REQUEST_ID = '7b8e0c2a-3f7d-4c1e-9a8b-2d7e5f1a0c33';
const created = {
  authId: '0063f27c-787b-4046-8b8e-a75e241b5ea6',
  status: 'SUCCESS',
  message: 'Please get the OTP from registered device to authenticate',
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  registrationUri: 'otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme',
  qrCodeUrl: '/v1/users/ada/devices/0063f27c-787b-4046-8b8e-a75e241b5ea6/qr',
  expiresAt: '2026-11-22T10:10:00.000Z',
};
const json = (value: unknown) => ({ json: value, bytes: JSON.stringify(value).length });
const headers = (extra: Record<string, string> = {}) =>
  new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': REQUEST_ID, ...extra });
const envelope = (code: string) => ({ status: 'FAILED', code, message: 'm', requestId: REQUEST_ID });

describe('OpenApiCheck (the e2e hook that holds every response to the served document)', () => {
  it('passes a response that conforms', () => {
    assert.deepEqual(check.check('POST', CREATE, 201, headers({ 'cache-control': 'no-store' }), json(created)), []);
  });

  it('reports a status the operation does not declare', () => {
    const problems = check.check('POST', CREATE, 200, headers({ 'cache-control': 'no-store' }), json(created));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /status 200 is not declared/);
  });

  it('reports a body that does not match the schema: a field missing, a field of the wrong format, a code the status does not list', () => {
    const withoutSecret: Partial<typeof created> = { ...created };
    delete withoutSecret.secret;
    assert.match(check.check('POST', CREATE, 201, headers({ 'cache-control': 'no-store' }), json(withoutSecret)).join('\n'), /secret/);
    assert.match(check.check('POST', CREATE, 201, headers({ 'cache-control': 'no-store' }), json({ ...created, authId: 'x' })).join('\n'), /uuid/);
    assert.notDeepEqual(check.check('POST', CREATE, 409, headers(), json(envelope('INVALID_OTP'))), []);
  });

  it('reports a required header that is missing (X-Request-Id, Cache-Control on the secret)', () => {
    assert.match(
      check.check('POST', CREATE, 201, new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' }), json(created)).join('\n'),
      /X-Request-Id missing/,
    );
    assert.match(check.check('POST', CREATE, 201, headers(), json(created)).join('\n'), /Cache-Control missing/);
  });

  it('requires Retry-After with a code that carries it, where the status groups it with codes that do not', () => {
    const problems = check.check('POST', ACTIVATE, 409, headers(), json(envelope('ACTIVATION_IN_PROGRESS')));
    assert.deepEqual(problems, [`POST ${new URL(ACTIVATE).pathname} 409: ACTIVATION_IN_PROGRESS without Retry-After`]);
    assert.deepEqual(check.check('POST', ACTIVATE, 409, headers({ 'retry-after': '1' }), json(envelope('ACTIVATION_IN_PROGRESS'))), []);
    assert.deepEqual(check.check('POST', ACTIVATE, 409, headers(), json(envelope('ALREADY_ACTIVE'))), []);
  });

  it('reports an undocumented route that answers anything but an error envelope before routing', () => {
    assert.match(check.check('GET', 'http://localhost:3000/v2/nothing', 200, headers(), json({})).join('\n'), /undocumented route/);
    assert.deepEqual(check.check('GET', 'http://localhost:3000/v2/nothing', 404, headers(), json(envelope('NOT_FOUND'))), []);
  });

  it('takes a raw request path as written: dot segments are not resolved', () => {
    assert.deepEqual(check.check('POST', '/v1/users/%2E/devices', 400, headers(), json(envelope('VALIDATION_FAILED'))), []);
  });
});
