import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Real dependency processes a test can stop, restart, hang (SIGSTOP) and resume. */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() - started > timeoutMs) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

export class ManagedRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // appendfsync always: what was acknowledged survives the restart, so a test can tell a ghost write.
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    if (this.child === undefined) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    await exited(this.child);
    this.child = undefined;
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** A disposable Postgres cluster of our own (Postgres refuses root, so as root it runs as "postgres"). */
export class ManagedPostgres {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  private readonly ids: { uid: number; gid: number } | undefined;
  constructor(readonly port: number) {
    if (process.getuid?.() === 0) {
      this.ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
      chownSync(this.dir, this.ids.uid, this.ids.gid);
    }
    const init = spawnSync(join(postgresBin(), 'initdb'), ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'], {
      ...this.ids,
      stdio: 'pipe',
      cwd: this.dir,
    });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.child = spawn(
      join(postgresBin(), 'postgres'),
      ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { ...this.ids, stdio: 'ignore', cwd: this.dir },
    );
    await waitForPort(this.port);
    await new Promise((r) => setTimeout(r, 200));
  }

  /** Fast shutdown: clients are disconnected, as in a real restart. */
  async stop(): Promise<void> {
    if (this.child === undefined) return;
    this.signalAll('SIGCONT');
    this.child.kill('SIGINT');
    await exited(this.child);
    this.child = undefined;
  }

  private signalAll(signal: NodeJS.Signals): void {
    if (this.child?.pid === undefined) return;
    const children = spawnSync('pgrep', ['-P', String(this.child.pid)])
      .stdout.toString()
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (const pid of [this.child.pid, ...children.map(Number)]) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend may have exited meanwhile
      }
    }
  }

  /** Hangs every process of the cluster (postmaster and backends). */
  pause(): void {
    this.signalAll('SIGSTOP');
  }

  resume(): void {
    this.signalAll('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.js');

/** The compiled service as a child process, as operators run it. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  output = '';
  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        METRICS_PORT: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    const started = Date.now();
    for (;;) {
      if (!this.running) throw new Error(`service exited:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/health/live`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 60_000) throw new Error(`service did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (this.child === undefined || !this.running) return this.child?.exitCode ?? null;
    const child = this.child;
    const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    child.kill('SIGTERM');
    return code;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}
