/**
 * npm run bench: starts the compiled service against the configured Postgres and Redis
 * (DATABASE_URL / REDIS_URL, or the local 127.0.0.1 defaults, in a fresh database), drives it with
 * autocannon on loopback (50 connections, bounded duration) and prints, per scenario, the median
 * over 3 runs of requests/s, p50 and p99 latency and errors, plus the service's peak RSS. Each
 * scenario starts with an unmeasured warm-up of BENCH_WARMUP seconds (default 2).
 * Writes the same to bench/results.json. Not part of the test command: speed is measured, never asserted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ensureTopologyPackages, ManagedPgBouncer, ManagedRedisCluster } from '../test/support/topologies.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { hashClientSecret } from '../src/auth/client-secret.js';
import { fromBase32, totpAt } from '../src/totp/totp.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
// More than this machine activates per second, to size the stock of registrations for a run.
const MAX_ACTIVATIONS_PER_S = 6000;
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** standalone (the local Redis), cluster (a 3-master Redis Cluster started here) or pgbouncer (PgBouncer in transaction mode). */
const TOPOLOGY = process.env.BENCH_TOPOLOGY ?? 'standalone';
if (!['standalone', 'cluster', 'pgbouncer'].includes(TOPOLOGY)) throw new Error('BENCH_TOPOLOGY must be standalone, cluster or pgbouncer');
const root = join(import.meta.dirname, '..', '..');
const policy = { algorithm: 'SHA1' as const, digits: 6 as const, period: 30 };

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU time (clock ticks) of the service, of Postgres and of Redis when they run on this machine
 * (read from /proc). Requests/s swing by tens of percent on a shared 2-core VM with steal time;
 * CPU per request moves much less, so it is what to compare between two versions of the code.
 */
type Ticks = Map<string, { group: string; used: number }>;

function cpuTicks(servicePid: number | undefined): Ticks {
  const ticks: Ticks = new Map();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return ticks;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const used = Number(fields[11]) + Number(fields[12]);
      const group =
        Number(pid) === servicePid
          ? 'service'
          : name === 'postgres'
            ? 'postgres'
            : name.startsWith('redis-server')
              ? 'redis'
              : name === 'pgbouncer'
                ? 'pgbouncer'
                : undefined;
      if (group !== undefined) ticks.set(pid, { group, used });
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** µs of CPU per request, per process group (100 ticks per second on Linux). */
function perRequestCpu(before: Ticks, after: Ticks, requests: number): string {
  // Per process, so that a Postgres backend that ended during the run does not count negative.
  const sums: Record<string, number> = { service: 0, postgres: 0, redis: 0, ...(TOPOLOGY === 'pgbouncer' ? { pgbouncer: 0 } : {}) };
  for (const [pid, { group, used }] of after) sums[group] += used - (before.get(pid)?.used ?? 0);
  return Object.entries(sums)
    .map(([k, ticks]) => `${k} ${Math.round((ticks * 10_000) / Math.max(1, requests))} µs`)
    .join(', ');
}

/** The infrastructure of BENCH_TOPOLOGY, and the service's settings for it. */
async function startTopology(dbUrl: URL, databaseName: string): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  if (TOPOLOGY === 'standalone') return { env: {}, stop: () => Promise.resolve() };
  ensureTopologyPackages();
  if (TOPOLOGY === 'cluster') {
    const cluster = new ManagedRedisCluster({ masters: 3 });
    await cluster.start();
    return {
      env: { REDIS_MODE: 'cluster', REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',') },
      stop: () => cluster.destroy(),
    };
  }
  const bouncer = new ManagedPgBouncer({ poolMode: 'transaction', defaultPoolSize: 20, host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
  await bouncer.start();
  return {
    env: { DATABASE_URL: bouncer.url(databaseName), DATABASE_PREPARED_STATEMENTS: 'false', MIGRATION_DATABASE_URL: dbUrl.toString() },
    stop: () => bouncer.destroy(),
  };
}

async function main(): Promise<void> {
  const databaseName = `totp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${databaseName}`;
  const topology = await startTopology(dbUrl, databaseName);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench', 'profiles')}`] : [];
  // The same V8 flags as npm run start:prod and the Docker image (a bounded heap keeps RSS low).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '--max-old-space-size=160').split(' ').filter((f) => f !== '');
  const service: ChildProcess = spawn(process.execPath, [...nodeFlags, ...profile, join(root, 'dist', 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL,
      ...topology.env,
      REDIS_KEY_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      RATE_LIMIT_PER_CLIENT_PER_SECOND: '0',
      MAX_PENDING_PER_CLIENT: '10000000',
      DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '20',
      // Metrics on, as in production (BENCH_METRICS=off measures what they cost).
      METRICS_PORT: process.env.BENCH_METRICS === 'off' ? '0' : String(await freePort()),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Even if the driver dies, the service does not outlive it.
  process.once('exit', () => service.kill('SIGKILL'));
  const results: Record<string, Figures> & { peakRssMb?: number } = {};
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/health/ready`)).ok) break;
      } catch {
        // starting
      }
      if (i > 300) throw new Error('service did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const clientId = randomUUID();
    const clientSecret = randomBytes(32).toString('base64url');
    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    await db.query('INSERT INTO oauth_clients (id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)', [
      clientId,
      'bench',
      hashClientSecret(clientSecret),
      ['devices:write', 'devices:read', 'otp:verify'],
    ]);
    await db.end();
    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const token = (
      (await (
        await fetch(`${url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic },
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    let userSeq = 0;
    const pending: Array<{ userId: string; authId: string; secret: Uint8Array }> = [];
    const devices: Array<{ userId: string; deviceId: string; secret: Uint8Array; nextStep: number }> = [];
    const step = () => Math.floor(Date.now() / 1000 / 30);

    const scenarios: Record<string, () => autocannon.Request[]> = {
      // The floor of this machine at this moment: Nest on Fastify answering a bare route (no auth,
      // no I/O). Compare with the issue's 13,500/s to scale the other figures to another machine.
      baseline: () => [{ method: 'GET', path: '/health/live' }],
      token: () => [
        {
          method: 'POST',
          path: '/oauth/token',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        },
      ],
      create: () => [
        {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ deviceType: 'TOTP', deviceName: 'Bench phone' }),
          setupRequest: (req) => ({ ...req, path: `/v1/users/bench-${++userSeq}/devices` }),
          onResponse: (status, body) => {
            if (status !== 201) return;
            const r = JSON.parse(body) as { authId: string; secret: string; qrCodeUrl: string };
            pending.push({ userId: r.qrCodeUrl.split('/')[3], authId: r.authId, secret: fromBase32(r.secret) });
          },
        },
      ],
      activate: () => [
        {
          method: 'POST',
          headers: auth,
          setupRequest: (req, context) => {
            const next = pending.pop();
            if (next === undefined) throw new Error('ran out of pending registrations: the create runs made too few');
            (context as { reg?: typeof next }).reg = next;
            return {
              ...req,
              path: `/v1/users/${next.userId}/devices/${next.authId}/activate`,
              body: JSON.stringify({ otp: totpAt(next.secret, policy, Date.now() / 1000) }),
            };
          },
          onResponse: (status, _body, context) => {
            const reg = (context as { reg?: (typeof pending)[number] }).reg;
            if (status === 200 && reg !== undefined)
              devices.push({ userId: reg.userId, deviceId: reg.authId, secret: reg.secret, nextStep: step() + 1 });
          },
        },
      ],
      verify: () => {
        let cursor = 0;
        return [
          {
            method: 'POST',
            headers: auth,
            setupRequest: (req) => {
              const now = step();
              // Bounded scan, so the load generator does not eat the CPU it shares with the service.
              for (let tries = 0; tries < Math.min(64, devices.length); tries++) {
                const d = devices[cursor++ % devices.length];
                const use = Math.max(d.nextStep, now);
                if (use > now + 1) continue; // spent for this window: each step is accepted once
                d.nextStep = use + 1;
                return {
                  ...req,
                  path: `/v1/users/${d.userId}/devices/${d.deviceId}/verify`,
                  body: JSON.stringify({ otp: totpAt(d.secret, policy, use * 30) }),
                };
              }
              // Every device's steps are spent for this window: reuse one (answers 400, counted as an error).
              const d = devices[cursor++ % devices.length];
              return {
                ...req,
                path: `/v1/users/${d.userId}/devices/${d.deviceId}/verify`,
                body: JSON.stringify({ otp: totpAt(d.secret, policy, Date.now() / 1000) }),
              };
            },
          },
        ];
      },
    };

    const only = process.env.BENCH_SCENARIOS?.split(',');
    // Activate needs the registrations create made, verify the devices activate made.
    const neededBy: Record<string, string[]> = { create: ['activate', 'verify'], activate: ['verify'] };
    for (const [name, requests] of Object.entries(scenarios)) {
      if (only !== undefined && !only.includes(name) && !(neededBy[name] ?? []).some((n) => only.includes(n))) continue;
      // Activation spends one registration per request: enough are made (unmeasured) beforehand.
      const topUp = async (seconds: number) => {
        const missing = seconds * MAX_ACTIVATIONS_PER_S - pending.length;
        if (name === 'activate' && missing > 0) await autocannon({ url, connections: CONNECTIONS, amount: missing, requests: scenarios.create() });
      };
      // A short unmeasured warm-up first (JIT, connection pools, Postgres caches): the first
      // measured run of a cold process was otherwise 15–25 % below the next two.
      if (WARMUP_S > 0) {
        await topUp(WARMUP_S);
        await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_S, requests: requests() });
      }
      const runs: Figures[] = [];
      for (let run = 0; run < RUNS; run++) {
        await topUp(DURATION_S);
        // A device accepts each time step once: each verify run starts on a fresh 30-s step.
        if (name === 'verify') await new Promise((r) => setTimeout(r, (30 - ((Date.now() / 1000) % 30)) * 1000 + 100));
        const before = cpuTicks(service.pid);
        const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests: requests() });
        const cpu = perRequestCpu(before, cpuTicks(service.pid), result.requests.total);
        runs.push({
          rps: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.errors + result.timeouts + result.non2xx,
        });
        process.stderr.write(
          `${name} run ${run + 1}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.timeouts + result.non2xx}; CPU per request: ${cpu}\n`,
        );
      }
      results[name] = {
        rps: Math.round(median(runs.map((r) => r.rps))),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        errors: runs.reduce((a, r) => a + r.errors, 0),
      };
    }
    const status = readFileSync(`/proc/${service.pid}/status`, 'utf8');
    results.peakRssMb = Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
  } finally {
    const exited = new Promise((r) => service.once('exit', r));
    service.kill('SIGTERM');
    await exited;
    await topology.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }

  const baseline = results.baseline;
  delete results.baseline;
  const rows = ['token', 'create', 'activate', 'verify']
    .filter((name) => results[name] !== undefined)
    .map((name) => {
      const f = results[name];
      return `| ${name.padEnd(8)} | ${String(f.rps).padStart(7)} | ${String(f.p50Ms).padStart(7)} | ${String(f.p99Ms).padStart(7)} | ${String(f.errors).padStart(6)} |`;
    });
  process.stdout.write(
    [
      `Benchmark (${TOPOLOGY}): ${CONNECTIONS} connections, ${DURATION_S} s per run, median of ${RUNS} runs`,
      '| scenario |   req/s | p50 ms  | p99 ms  | errors |',
      '|----------|---------|---------|---------|--------|',
      ...rows,
      `peak RSS of the service: ${results.peakRssMb} MB`,
      ...(baseline === undefined ? [] : [`baseline (GET /health/live, no auth, no I/O): ${baseline.rps} req/s, p99 ${baseline.p99Ms} ms`]),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'bench', TOPOLOGY === 'standalone' ? 'results.json' : `results-${TOPOLOGY}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
