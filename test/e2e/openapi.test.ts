import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCUMENT_PUBLIC_URL } from '../../src/cli/openapi.js';
import { startTestApp, type TestApp } from '../support/harness.js';

interface Operation {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { content?: Record<string, { examples?: Record<string, unknown>; example?: unknown; schema?: unknown }> }>;
  'x-required-scope'?: string;
  parameters?: unknown[];
  requestBody?: unknown;
}

describe('OpenAPI document (/docs-json)', () => {
  let app: TestApp & { teardown(): Promise<void> };
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, { flows: { clientCredentials: { tokenUrl: string } } }> };
  };
  before(async () => {
    app = await startTestApp();
    doc = (await (await app.fetch('/docs-json')).json()) as typeof doc;
  });
  after(() => app.teardown());

  it('describes the client-credentials flow for the Authorize button', () => {
    assert.equal(doc.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl, '/oauth/token');
  });

  it('documents every /v1 route with its scope, its success response and the error codes it can answer, with examples', () => {
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    assert.equal(operations.length, 23);
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const scope = op['x-required-scope'];
      assert.ok(scope !== undefined, `${where} names its scope`);
      // GET /v1/policy takes any valid token: a security requirement without scopes.
      assert.deepEqual(op.security, [{ oauth2: scope === 'any' ? [] : [scope] }], where);
      const codes = Object.keys(op.responses);
      assert.ok(
        codes.some((c) => /^20[014]$/.test(c)),
        `${where} has a success response`,
      );
      const input = (op.parameters ?? []).length > 0 || op.requestBody !== undefined;
      for (const status of [...(input ? ['400'] : []), '401', '403', '503']) assert.ok(codes.includes(status), `${where} documents ${status}`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const examples = response.content?.['application/json']?.examples ?? {};
        assert.ok(Object.keys(examples).length > 0, `${where} ${status} has examples`);
      }
    }
  });

  it("documents the token endpoint's RFC 6749 errors", () => {
    const token = doc.paths['/oauth/token'].post;
    for (const status of ['200', '400', '401', '429', '503']) assert.ok(status in token.responses, status);
    assert.deepEqual(token.security, [], 'public: no token needed');
  });

  it('is the document in docs/openapi.json (the typed client is generated from it): npm run openapi after a change', async () => {
    const served = (await (await app.fetch('/docs-json')).text()).replaceAll(app.config.publicUrl, DOCUMENT_PUBLIC_URL);
    const committed = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'openapi.json'), 'utf8');
    assert.deepEqual(JSON.parse(served), JSON.parse(committed), 'docs/openapi.json is stale: run npm run openapi');
  });
});
