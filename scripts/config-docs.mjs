// Regenerates the README configuration table and .env.example from the config schema
// (src/config/config.ts). A unit test fails when they drift apart. Usage: npm run docs:config
import { readFileSync, writeFileSync } from 'node:fs';
import { ensureBuilt } from './run-compiled.mjs';

ensureBuilt();
const { CONFIG_VARIABLES } = await import('../dist/src/config/config.js');
const cell = (text) => text.replace(/\|/g, '\\|');

let table = '| Variable | Default | Meaning |\n|---|---|---|\n';
for (const v of CONFIG_VARIABLES) table += `| \`${v.name}\` | ${cell(v.default)} | ${cell(v.description)} |\n`;
const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf('| Variable | Default | Meaning |');
const end = readme.indexOf('\n\n', start);
writeFileSync('README.md', readme.slice(0, start) + table.trimEnd() + readme.slice(end));

let env = `# Every variable the service reads (src/config/config.ts), with its default. All are optional in the
# embedded mode. Set them in the environment; docker compose also reads a .env file beside it, and
# node can load one: node --env-file=.env dist/src/main.js
`;
for (const v of CONFIG_VARIABLES) env += `\n# ${v.description}\n#${v.name}=${v.default.startsWith('(') ? '' : v.default.replace('$PORT', '3000')}\n`;
writeFileSync('.env.example', env);
