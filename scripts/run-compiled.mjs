// Runs a compiled entry point from dist/, compiling first when the sources are newer than the build.
// Usage: node scripts/run-compiled.mjs src/cli/clients.cli.js create --name "Acme"
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', 'src', 'main.js');

function newest(dir) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Only TypeScript sources count: bench/ also holds results and profiles written by runs.
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** Compiles when the build is missing, older than the sources, or lacks `entry` (npm run build compiles src/ only). */
export function ensureBuilt(entry = 'src/main.js') {
  const sources = Math.max(
    newest(join(root, 'src')),
    newest(join(root, 'test')),
    newest(join(root, 'bench')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
  );
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', entry)) || statSync(stamp).mtimeMs < sources) {
    process.stderr.write('Compiling TypeScript…\n');
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], {
      stdio: 'inherit',
    });
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, ...args] = process.argv.slice(2);
  ensureBuilt(entry);
  const run = spawnSync(process.execPath, ['--enable-source-maps', join(root, 'dist', entry), ...args], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
