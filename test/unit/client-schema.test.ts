import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');

it('the TypeScript client is generated from docs/openapi.json as it is now (npm run openapi regenerates both)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-schema-'));
  try {
    const out = join(dir, 'schema.ts');
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'client-schema.mjs'), out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(
      readFileSync(out, 'utf8'),
      readFileSync(join(root, 'clients', 'typescript', 'src', 'schema.ts'), 'utf8'),
      'stale: run npm run openapi',
    );
    assert.match(readFileSync(out, 'utf8'), /"image\/png": Blob;/, 'the PNG QR codes are typed as binary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
