import { type ChildProcess, execFile, execFileSync, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, waitForPort } from './processes.js';
import type { TlsFiles } from './tls-files.js';

/**
 * Real Redis Cluster, Redis Sentinel and PgBouncer topologies built from the Debian packages
 * (redis-server, redis-tools, redis-sentinel, pgbouncer), each on free ports with its own temp dir.
 *
 * The same install for scripts/ensure-services.sh (uses its apt_install and as_root helpers):
 *
 *   # Redis Cluster / Sentinel and PgBouncer topologies (test/support/topologies.ts).
 *   topology_packages=()
 *   command -v redis-server >/dev/null || topology_packages+=(redis-server)
 *   command -v redis-cli >/dev/null || topology_packages+=(redis-tools)
 *   command -v redis-sentinel >/dev/null || topology_packages+=(redis-sentinel)
 *   command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || topology_packages+=(pgbouncer)
 *   if [ "${#topology_packages[@]}" -gt 0 ]; then
 *     echo "[services] installing ${topology_packages[*]} for the topology tests"
 *     apt_install "${topology_packages[@]}"
 *     # The packages enable system services (pgbouncer :6432, redis-sentinel :26379); the tests run
 *     # their own instances on free ports, so the system ones are not wanted.
 *     if [ -d /run/systemd/system ]; then as_root systemctl disable --now pgbouncer redis-sentinel >/dev/null 2>&1 || true; fi
 *   fi
 */

export interface HostPort {
  host: string;
  port: number;
}

/** How a Redis server is secured: `requirepass` (and `masterauth`), and TLS only (no plaintext port). */
export interface RedisAuth {
  password?: string;
  tls?: TlsFiles;
}

/** redis-cli's options for a server secured with `auth`. */
const cliAuth = (auth: RedisAuth): string[] => [
  ...(auth.password === undefined ? [] : ['-a', auth.password, '--no-auth-warning']),
  ...(auth.tls === undefined ? [] : ['--tls', '--cacert', auth.tls.ca]),
];

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Packages

const TOPOLOGY_BINARIES: Record<string, string> = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  'redis-sentinel': 'redis-sentinel',
  pgbouncer: 'pgbouncer',
};

/** Absolute path of a binary on PATH (or in /usr/sbin, where pgbouncer lives and a non-root PATH may not look). */
function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return dirs
    .filter((d) => d !== '')
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
}

function binary(name: string): string {
  const path = findBinary(name);
  if (path === undefined)
    throw new Error(`${name} is not installed (apt-get install ${TOPOLOGY_BINARIES[name] ?? name}); call ensureTopologyPackages() first`);
  return path;
}

/** Installs (apt) the Debian packages of any missing topology binary; throws with apt's output if that fails. */
export function ensureTopologyPackages(): void {
  const missing = [
    ...new Set(
      Object.entries(TOPOLOGY_BINARIES)
        .filter(([bin]) => findBinary(bin) === undefined)
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  const asRoot: string[] = process.getuid?.() === 0 ? [] : findBinary('sudo') !== undefined ? ['sudo', '-n'] : [];
  if (process.getuid?.() !== 0 && asRoot.length === 0)
    throw new Error(`topology tests need ${missing.join(', ')}, and installing needs root or sudo: apt-get install -y ${missing.join(' ')}`);
  if (findBinary('apt-get') === undefined) throw new Error(`topology tests need ${missing.join(', ')}, and apt-get is not available to install them`);
  const run = (args: string[]) => {
    // env, not the spawn env: sudo resets the environment.
    const [command, ...rest] = [...asRoot, 'env', 'DEBIAN_FRONTEND=noninteractive', ...args];
    return spawnSync(command, rest, { stdio: 'pipe', timeout: 300_000 });
  };
  let install = run(['apt-get', 'install', '-y', '-qq', ...missing]);
  if (install.status !== 0) {
    // A fresh machine may have no package lists yet.
    run(['apt-get', 'update', '-qq']);
    install = run(['apt-get', 'install', '-y', '-qq', ...missing]);
  }
  if (install.status !== 0)
    throw new Error(
      `apt-get install -y ${missing.join(' ')} failed (${install.error?.message ?? `exit ${install.status}`}):\n${install.stderr.toString()}`,
    );
  // On systemd machines the postinst scripts start pgbouncer (:6432) and redis-sentinel (:26379); the tests never use them.
  const services = missing.filter((pkg) => pkg === 'pgbouncer' || pkg === 'redis-sentinel');
  if (services.length > 0 && existsSync('/run/systemd/system')) run(['systemctl', 'disable', '--now', ...services]);
  const still = Object.keys(TOPOLOGY_BINARIES).filter((bin) => findBinary(bin) === undefined);
  if (still.length > 0) throw new Error(`after apt-get install ${missing.join(' ')}, still missing: ${still.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Children still running and temp dirs not yet removed: cleaned up when the test process exits, so a crashed test leaves nothing behind. */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** `n` distinct free ports (freePort alone may hand out the same port twice). */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** One server process: started in the foreground, output kept (last 64 KiB) for error messages. */
class Proc {
  private child: ChildProcess | undefined;
  private output = '';
  constructor(
    readonly label: string,
    readonly port: number,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-65_536));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new Error(`${this.label}: ${error.message}`)));
      child.once('exit', (code, signal) => {
        live.delete(child);
        reject(new Error(`${this.label} exited (${signal ?? `code ${code}`}) while starting:\n${this.output}`));
      });
    });
    failed.catch(() => undefined); // only raced below; a later exit (kill, stop) is not an error
    await Promise.race([waitForPort(this.port), failed]);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** SIGCONT (a paused process cannot act on SIGTERM), then `signal`; SIGKILL if it has not exited within 5 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    this.child = undefined;
  }

  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }
}

/** Runs redis-cli against one node; rejects on error or after `timeoutMs` (e.g. the node is SIGSTOPped). */
export function redisCli(port: number, args: string[], timeoutMs = 2_000, auth: RedisAuth = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary('redis-cli'), ['-h', HOST, '-p', String(port), ...cliAuth(auth), ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${error.message} ${stderr}`));
      else if (stdout.startsWith('ERR ') || stdout.startsWith('NOAUTH'))
        reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${stdout.trim()}`));
      else resolve(stdout);
    });
  });
}

/** Parses `key:value` lines (INFO, CLUSTER INFO). */
function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) map.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return map;
}

/** Polls `check` (errors count as "not yet") until it returns a value other than undefined. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms${last === '' ? '' : ` (last error: ${last})`}`);
    await sleep(100);
  }
}

/** `master`, `slave` (replica) or `sentinel`, as the node's ROLE reports it. */
async function role(port: number, auth: RedisAuth = {}): Promise<string> {
  return (await redisCli(port, ['ROLE'], 1_000, auth)).split('\n')[0].trim();
}

// repl-diskless-sync-delay 0: a replica's first sync starts at once instead of after the default 5 s.
// With TLS the server listens on `port` for TLS only (no plaintext port); clients need no certificate.
const redisArgs = (port: number, dir: string, auth: RedisAuth = {}) => [
  ...(auth.tls === undefined
    ? ['--port', String(port)]
    : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', auth.tls.cert, '--tls-key-file', auth.tls.key]),
  ...(auth.tls === undefined ? [] : ['--tls-ca-cert-file', auth.tls.ca, '--tls-auth-clients', 'no', '--tls-replication', 'yes']),
  ...(auth.password === undefined ? [] : ['--requirepass', auth.password, '--masterauth', auth.password]),
  '--bind',
  HOST,
  '--save',
  '',
  '--appendonly',
  'no',
  '--repl-diskless-sync-delay',
  '0',
  '--dir',
  dir,
];

// ---------------------------------------------------------------------------------------------
// Redis Cluster

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** A password on every node, and TLS (also on the cluster bus and for replication). */
  auth?: RedisAuth;
}

/** A Redis Cluster of `masters` masters with `replicasPerMaster` replicas each, created with redis-cli --cluster create. */
export class ManagedRedisCluster {
  readonly dir = tempDir('redis-cluster-test-');
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly auth: RedisAuth;
  private procs: Proc[] = [];

  constructor(options: RedisClusterOptions = {}) {
    this.masters = options.masters ?? 3;
    this.replicasPerMaster = options.replicasPerMaster ?? 0;
    this.auth = options.auth ?? {};
    if (this.masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  }

  get nodes(): HostPort[] {
    return this.procs.map((p) => ({ host: HOST, port: p.port }));
  }

  get url(): string {
    if (this.procs.length === 0) throw new Error('cluster not started');
    return `redis://${HOST}:${this.procs[0].port}`;
  }

  async start(): Promise<void> {
    const count = this.masters * (1 + this.replicasPerMaster);
    // Explicit bus ports: the default (port + 10000) overflows 65535 for ephemeral-range ports.
    const ports = await freePorts(count * 2);
    this.procs = ports.slice(0, count).map((port) => new Proc(`redis-server :${port} (cluster)`, port));
    await Promise.all(
      this.procs.map((p, i) =>
        p.start(binary('redis-server'), [
          ...redisArgs(p.port, this.dir, this.auth),
          ...(this.auth.tls === undefined ? [] : ['--tls-cluster', 'yes']),
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(ports[count + i]),
          '--cluster-config-file',
          `nodes-${p.port}.conf`,
          '--cluster-node-timeout',
          '1000',
        ]),
      ),
    );
    const create = await new Promise<{ code: number; out: string }>((resolve) => {
      const args = [
        ...cliAuth(this.auth),
        '--cluster',
        'create',
        ...this.procs.map((p) => `${HOST}:${p.port}`),
        '--cluster-replicas',
        String(this.replicasPerMaster),
        '--cluster-yes',
      ];
      execFile(binary('redis-cli'), args, { timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, out: stdout + stderr }),
      );
    });
    if (create.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.out}`);
    await this.waitUntilHealthy();
  }

  /** Every running node says cluster_state:ok and knows every node; every replica's link to its master is up. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await until('cluster_state:ok on every node', timeoutMs, async () => {
      for (const p of this.procs.filter((q) => q.running)) {
        const info = fields(await redisCli(p.port, ['CLUSTER', 'INFO'], 1_000, this.auth));
        if (info.get('cluster_state') !== 'ok' || info.get('cluster_known_nodes') !== String(this.procs.length)) return undefined;
        const replication = async () => fields(await redisCli(p.port, ['INFO', 'replication'], 1_000, this.auth));
        if ((await role(p.port, this.auth)) === 'slave' && (await replication()).get('master_link_status') !== 'up') return undefined;
      }
      return true;
    });
  }

  private proc(i: number): Proc {
    const p = this.procs[i];
    if (p === undefined) throw new Error(`no cluster node ${i} (have ${this.procs.length})`);
    return p;
  }

  /** `master` or `slave` (replica), as node i reports it now. */
  async role(i: number): Promise<string> {
    return role(this.proc(i).port, this.auth);
  }

  /** The index of the node that serves `slot` as its master now (CLUSTER NODES, as the first running node sees it). */
  async masterOf(slot: number): Promise<number> {
    const first = this.procs.find((p) => p.running);
    if (first === undefined) throw new Error('no cluster node is running');
    for (const line of (await redisCli(first.port, ['CLUSTER', 'NODES'], 1_000, this.auth)).split('\n')) {
      const [, address, flags, , , , , , ...ranges] = line.trim().split(' ');
      if (address === undefined || !flags?.split(',').includes('master')) continue;
      const owns = ranges.some((r) => {
        const [from, to = from] = r.split('-').map(Number);
        return slot >= from && slot <= to;
      });
      const port = Number(address.split('@')[0].split(':').at(-1));
      if (owns) return this.procs.findIndex((p) => p.port === port);
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** SIGSTOP: node i hangs with its sockets open. */
  pause(i: number): void {
    this.proc(i).signal('SIGSTOP');
  }

  resume(i: number): void {
    this.proc(i).signal('SIGCONT');
  }

  /** SIGKILL node i and wait for it to be gone. */
  async kill(i: number): Promise<void> {
    await this.proc(i).kill();
  }

  /**
   * After `previous`, the master of `slot`, stopped: resolves with the index of the node that took
   * its slots over, once that node says cluster_state:ok.
   */
  async waitForTakeover(slot: number, previous: number, timeoutMs = 15_000): Promise<number> {
    return until(`a replica taking over slot ${slot}`, timeoutMs, async () => {
      const now = await this.masterOf(slot);
      if (now === previous || now === -1) return undefined;
      return fields(await redisCli(this.proc(now).port, ['CLUSTER', 'INFO'], 1_000, this.auth)).get('cluster_state') === 'ok' ? now : undefined;
    });
  }

  /**
   * CLUSTER FAILOVER on replica i; resolves once it reports itself master. Use FORCE when its
   * master is down or paused (no handshake with it), TAKEOVER to skip the election as well.
   */
  async failover(i: number, mode?: 'FORCE' | 'TAKEOVER', timeoutMs = 15_000): Promise<void> {
    if (this.replicasPerMaster === 0) throw new Error('failover needs a cluster with replicas');
    const port = this.proc(i).port;
    if ((await role(port, this.auth)) !== 'slave') throw new Error(`cluster node ${i} (:${port}) is not a replica`);
    await redisCli(port, ['CLUSTER', 'FAILOVER', ...(mode === undefined ? [] : [mode])], 2_000, this.auth);
    await until(`node :${port} promoted`, timeoutMs, async () => ((await role(port, this.auth)) === 'master' ? true : undefined));
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }

  async destroy(): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}

// ---------------------------------------------------------------------------------------------
// Redis Sentinel

export interface SentinelOptions {
  /** `requirepass` of the master and the replica (the sentinels log in with it: `sentinel auth-pass`). */
  password?: string;
  /** `requirepass` of the sentinels themselves (they use it with each other too). */
  sentinelPassword?: string;
}

/** One master, one replica and three sentinels (quorum 2) monitoring them as `name`. */
export class ManagedSentinel {
  readonly dir = tempDir('redis-sentinel-test-');
  readonly name: string;
  masterPort = 0;
  replicaPort = 0;
  private data: Proc[] = [];
  private watchers: Proc[] = [];
  /** The master as last known to this object (changes after waitForFailover). */
  private master: HostPort | undefined;
  private readonly dataAuth: RedisAuth;
  private readonly sentinelAuth: RedisAuth;

  constructor(name = 'topology-master', options: SentinelOptions = {}) {
    this.name = name;
    this.dataAuth = { password: options.password };
    this.sentinelAuth = { password: options.sentinelPassword };
  }

  get sentinels(): HostPort[] {
    return this.watchers.map((p) => ({ host: HOST, port: p.port }));
  }

  async start(): Promise<void> {
    const [masterPort, replicaPort, ...sentinelPorts] = await freePorts(5);
    this.masterPort = masterPort!;
    this.replicaPort = replicaPort!;
    const master = new Proc(`redis-server :${masterPort} (master)`, masterPort);
    const replica = new Proc(`redis-server :${replicaPort} (replica)`, replicaPort);
    this.data = [master, replica];
    await master.start(binary('redis-server'), redisArgs(master.port, this.dir, this.dataAuth));
    await replica.start(binary('redis-server'), [
      ...redisArgs(replica.port, this.dir, this.dataAuth),
      '--dbfilename',
      `dump-${replica.port}.rdb`,
      '--replicaof',
      HOST,
      String(master.port),
    ]);
    await until('replica in sync', 15_000, async () =>
      fields(await redisCli(replica.port, ['INFO', 'replication'], 2_000, this.dataAuth)).get('master_link_status') === 'up' ? true : undefined,
    );
    this.master = { host: HOST, port: master.port };

    this.watchers = sentinelPorts.map((port) => new Proc(`redis-sentinel :${port}`, port));
    await Promise.all(
      this.watchers.map((s) => {
        // Sentinel rewrites its config file (known replicas, sentinels, epochs), so each gets its own.
        const conf = join(this.dir, `sentinel-${s.port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${s.port}`,
            `bind ${HOST}`,
            `dir ${this.dir}`,
            'logfile ""',
            `sentinel monitor ${this.name} ${HOST} ${master.port} 2`,
            `sentinel down-after-milliseconds ${this.name} 1000`,
            `sentinel failover-timeout ${this.name} 3000`,
            `sentinel parallel-syncs ${this.name} 1`,
            ...(this.dataAuth.password === undefined ? [] : [`sentinel auth-pass ${this.name} ${this.dataAuth.password}`]),
            ...(this.sentinelAuth.password === undefined ? [] : [`requirepass ${this.sentinelAuth.password}`]),
            '',
          ].join('\n'),
        );
        return s.start(binary('redis-sentinel'), [conf]);
      }),
    );
    // A failover needs every sentinel to know the replica and the other two sentinels (hello messages every 2 s).
    await until('sentinels discovered the replica and each other', 30_000, async () => {
      for (const s of this.watchers) {
        const lines = (await redisCli(s.port, ['SENTINEL', 'MASTER', this.name], 2_000, this.sentinelAuth)).split('\n');
        const info = new Map<string, string>();
        for (let i = 0; i + 1 < lines.length; i += 2) info.set(lines[i], lines[i + 1]);
        if (info.get('flags') !== 'master' || info.get('num-slaves') !== '1' || info.get('num-other-sentinels') !== '2') return undefined;
      }
      return true;
    });
  }

  /** The master address a sentinel reports now (the first sentinel that answers). */
  async currentMaster(): Promise<HostPort> {
    const errors: string[] = [];
    for (const s of this.watchers.filter((p) => p.running)) {
      try {
        return await this.masterAccordingTo(s.port);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    throw new Error(`no sentinel answered: ${errors.join('; ')}`);
  }

  private async masterAccordingTo(sentinelPort: number): Promise<HostPort> {
    const [host, port] = (await redisCli(sentinelPort, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name], 1_000, this.sentinelAuth))
      .trim()
      .split('\n');
    if (host === undefined || port === undefined || host === '') throw new Error(`sentinel :${sentinelPort} does not know ${this.name}`);
    return { host, port: Number(port) };
  }

  private masterProc(): Proc {
    const p = this.data.find((d) => d.port === this.master?.port);
    if (p === undefined) throw new Error('sentinel topology not started');
    return p;
  }

  /** SIGKILL the process that is currently the master. */
  async killMaster(): Promise<void> {
    await this.masterProc().kill();
  }

  pauseMaster(): void {
    this.masterProc().signal('SIGSTOP');
  }

  resumeMaster(): void {
    this.masterProc().signal('SIGCONT');
  }

  /**
   * Resolves with the new master once a majority of the sentinels reports an address other than
   * the previous master's and that server answers ROLE as master.
   */
  async waitForFailover(timeoutMs = 30_000): Promise<HostPort> {
    const previous = this.master;
    const promoted = await until(`failover of ${this.name}`, timeoutMs, async () => {
      const answers = await Promise.all(this.watchers.filter((s) => s.running).map((s) => this.masterAccordingTo(s.port).catch(() => undefined)));
      const moved = answers.filter((a): a is HostPort => a !== undefined && (a.host !== previous?.host || a.port !== previous.port));
      const candidate = moved[0];
      if (candidate === undefined || moved.filter((a) => a.port === candidate.port && a.host === candidate.host).length < 2) return undefined;
      return (await role(candidate.port, this.dataAuth)) === 'master' ? candidate : undefined;
    });
    this.master = promoted;
    return promoted;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watchers, ...this.data].map((p) => p.stop()));
  }

  async destroy(): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}

// ---------------------------------------------------------------------------------------------
// PgBouncer

export interface PgBouncerOptions {
  /** The Postgres behind the pooler; default the machine's 127.0.0.1:5432, user postgres, trust. */
  host?: string;
  port?: number;
  user?: string;
  /** Only needed when that Postgres does not trust 127.0.0.1. */
  password?: string;
  poolMode?: 'session' | 'transaction' | 'statement';
  defaultPoolSize?: number;
  maxClientConn?: number;
  /** Startup parameters PgBouncer accepts and drops; default none, so e.g. statement_timeout is refused. */
  ignoreStartupParameters?: string[];
}

/** PgBouncer (transaction pooling) in front of a Postgres; any database name is passed through (`*`). */
export class ManagedPgBouncer {
  readonly dir = tempDir('pgbouncer-test-');
  port = 0;
  private proc: Proc | undefined;
  private readonly ids: { uid: number; gid: number } | undefined;
  private readonly options: Required<Omit<PgBouncerOptions, 'password'>> & { password: string | undefined };

  constructor(options: PgBouncerOptions = {}) {
    this.options = {
      host: options.host ?? HOST,
      port: options.port ?? 5432,
      user: options.user ?? 'postgres',
      password: options.password,
      poolMode: options.poolMode ?? 'transaction',
      defaultPoolSize: options.defaultPoolSize ?? 3,
      maxClientConn: options.maxClientConn ?? 200,
      ignoreStartupParameters: options.ignoreStartupParameters ?? [],
    };
    // PgBouncer refuses to run as root; as root it runs as "postgres", which must own its dir (unix socket, log).
    if (process.getuid?.() === 0) {
      this.ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
      chownSync(this.dir, this.ids.uid, this.ids.gid);
    }
  }

  get user(): string {
    return this.options.user;
  }

  /** A client URL through the pooler; `pgbouncer` is the admin console (SHOW POOLS, SHOW SERVERS...). */
  url(database = 'postgres'): string {
    if (this.port === 0) throw new Error('pgbouncer not started');
    return `postgres://${encodeURIComponent(this.options.user)}@${HOST}:${this.port}/${encodeURIComponent(database)}`;
  }

  get adminUrl(): string {
    return this.url('pgbouncer');
  }

  async start(): Promise<void> {
    const o = this.options;
    [this.port] = await freePorts(1);
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    // trust: clients are not authenticated, but the user must still be in auth_file; the password
    // there (if any) is the one PgBouncer uses to log in to Postgres.
    writeFileSync(join(this.dir, 'userlist.txt'), `${quote(o.user)} ${quote(o.password ?? '')}\n`);
    const ini = [
      '[databases]',
      `* = host=${o.host} port=${o.port}`,
      '',
      '[pgbouncer]',
      `listen_addr = ${HOST}`,
      `listen_port = ${this.port}`,
      `unix_socket_dir = ${this.dir}`,
      'auth_type = trust',
      `auth_file = ${join(this.dir, 'userlist.txt')}`,
      `admin_users = ${o.user}`,
      `stats_users = ${o.user}`,
      `pool_mode = ${o.poolMode}`,
      `default_pool_size = ${o.defaultPoolSize}`,
      `max_client_conn = ${o.maxClientConn}`,
      ...(o.ignoreStartupParameters.length > 0 ? [`ignore_startup_parameters = ${o.ignoreStartupParameters.join(',')}`] : []),
      'server_login_retry = 1',
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'pgbouncer.ini'), ini);
    this.proc = new Proc(`pgbouncer :${this.port}`, this.port);
    await this.proc.start(binary('pgbouncer'), [join(this.dir, 'pgbouncer.ini')], { ...this.ids, cwd: this.dir });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  pause(): void {
    this.proc?.signal('SIGSTOP');
  }

  resume(): void {
    this.proc?.signal('SIGCONT');
  }

  /** SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for clients). */
  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    removeTempDir(this.dir);
  }
}
