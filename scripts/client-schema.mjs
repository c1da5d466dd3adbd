// Writes the TypeScript client's types (clients/typescript/src/schema.ts) from docs/openapi.json with
// openapi-typescript, as its CLI would, except that binary bodies (the QR codes' image/png) are typed
// Blob rather than string. Part of npm run openapi; test/unit/client-schema.test.ts checks the result
// is current. Usage: node scripts/client-schema.mjs [output file]
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = process.argv[2] === undefined ? join(root, 'clients', 'typescript', 'src', 'schema.ts') : resolve(process.argv[2]);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));

const ast = await openapiTS(pathToFileURL(join(root, 'docs', 'openapi.json')), {
  transform: (schema) => (schema.format === 'binary' ? BLOB : undefined),
});
writeFileSync(output, `${COMMENT_HEADER}${astToString(ast)}`);
