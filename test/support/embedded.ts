import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.js');

export interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** Starts the compiled service exactly as `npm start` does, with no database configuration. */
export async function startEmbedded(dataDir: string, port: number, extra: Record<string, string> = {}): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // Tests run several services at once: metrics only where a test asks for them.
    METRICS_PORT: '0',
    ...extra,
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const started = Date.now();
  while (!output.includes('Get a token')) {
    if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`embedded start failed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, url: `http://127.0.0.1:${port}` };
}

export async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGTERM');
  return new Promise((resolve) => running.child.once('exit', (code) => resolve(code)));
}
