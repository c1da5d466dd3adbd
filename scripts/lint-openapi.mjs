// Part of npm run lint: Redocly's recommended rules on docs/openapi.json (the document the service
// serves, written by npm run openapi; a test keeps the two equal). Zero errors and zero warnings.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npx', ['--no-install', 'redocly', 'lint', 'docs/openapi.json', '--format=json'], { encoding: 'utf8' });
let totals;
try {
  totals = JSON.parse(run.stdout).totals;
} catch {
  process.stderr.write(`redocly lint did not run:\n${run.stderr}\n`);
  process.exit(1);
}
if (totals.errors > 0 || totals.warnings > 0) {
  spawnSync('npx', ['--no-install', 'redocly', 'lint', 'docs/openapi.json'], { stdio: 'inherit' });
  process.stderr.write(`OpenAPI document: ${totals.errors} errors, ${totals.warnings} warnings (Redocly recommended rules)\n`);
  process.exit(1);
}
process.stdout.write('OpenAPI document: 0 errors, 0 warnings (Redocly recommended rules)\n');
