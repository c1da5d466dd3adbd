import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createClient } from 'redis';
import { createApp } from '../../src/app.factory.js';
import { ClientsService, type ClientCredentials } from '../../src/auth/clients.service.js';
import { createLogger } from '../../src/common/logger.js';
import { type AppConfig, loadConfig, type RedisConfig } from '../../src/config/config.js';
import { RedisConnection } from '../../src/redis/redis-connection.js';
import { prepareRuntime } from '../../src/runtime.js';
import { TestClock } from './clock.js';
import { ResponseCheck } from './response-check.js';
import { TcpProxy } from './tcp-proxy.js';
import { codeFor, wrongCodeFor } from './otp.js';

export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEnvironment {
  databaseUrl: string;
  databaseName: string;
  redisKeyPrefix: string;
  encryptionKey: string;
}

/** A fresh database and Redis key prefix, so test files never see each other's data. */
export async function createEnvironment(): Promise<TestEnvironment> {
  const id = randomBytes(6).toString('hex');
  const databaseName = `totp_test_${id}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${databaseName}`;
  return { databaseUrl: url.toString(), databaseName, redisKeyPrefix: `test:${id}:`, encryptionKey: randomBytes(32).toString('base64') };
}

export async function destroyEnvironment(env: TestEnvironment): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${env.databaseName} WITH (FORCE)`);
  await admin.end();
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${env.redisKeyPrefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await redis.del(keys);
  }
  await redis.close();
}

export class TestApp {
  constructor(
    readonly app: NestFastifyApplication,
    readonly url: string,
    readonly config: AppConfig,
    readonly env: TestEnvironment,
    /** The service's clock: tests move it instead of waiting. */
    readonly clock: TestClock,
  ) {
    this.responses = new ResponseCheck(url);
  }

  /** The code an authenticator app shows for `secret` at the service's time (plus `offsetSeconds`). */
  code(secret: string, offsetSeconds = 0): string {
    return codeFor(secret, offsetSeconds, this.clock.nowMs());
  }

  /** A code certainly wrong at the service's time. */
  wrongCode(secret: string): string {
    return wrongCodeFor(secret, this.clock.nowMs());
  }

  /**
   * Every response a test receives here is checked against the OpenAPI document the service
   * serves (/docs-json): a mismatch fails the test that made the request, and (if that test
   * swallowed it) the file, at close or teardown.
   */
  readonly responses: ResponseCheck;

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.responses.fetch(path, init);
  }

  /** The same check for a request made elsewhere: the fetch to give a TotpClient. */
  readonly checkedFetch = (request: Request): Promise<Response> => this.responses.checkedFetch(request);

  createClient(scopes = 'devices:write devices:read otp:verify', name = 'Test client'): Promise<ClientCredentials> {
    return this.app.get(ClientsService).create(name, scopes);
  }

  async token(credentials: ClientCredentials, scope?: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret });
    if (scope !== undefined) body.set('scope', scope);
    const response = await this.fetch('/oauth/token', { method: 'POST', body });
    if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** A client with the given scopes and a token for it. */
  async clientWithToken(scopes?: string): Promise<{ credentials: ClientCredentials; token: string; clientId: string }> {
    const credentials = await this.createClient(scopes);
    return { credentials, token: await this.token(credentials), clientId: credentials.clientId };
  }

  /** JSON request with a bearer token. */
  async call(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const response = await this.fetch(path, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text) as Record<string, unknown>;
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /** Closes the app; fails if any response did not match the document. */
  async close(): Promise<void> {
    await this.app.close();
    this.responses.assertNoProblems();
  }
}

/** Collects an app's log lines (JSON strings) for a test to inspect. */
export class LogSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface StartOptions {
  logs?: LogSink;
  /** Shared by replicas of one test, so that they agree on the time. */
  clock?: TestClock;
  /** Listen here instead of a random port (when PUBLIC_URL must name the real address). */
  port?: number;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the real application (real Postgres, real Redis) on a random loopback port. */
export async function startApp(env: TestEnvironment, overrides: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: REDIS_URL,
    REDIS_KEY_PREFIX: env.redisKeyPrefix,
    ENCRYPTION_KEY: env.encryptionKey,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PUBLIC_URL: 'http://localhost:3000',
    // Several apps share one test process: metrics only where a test asks for them (a port of its own).
    METRICS_PORT: '0',
    ...overrides,
  });
  const clock = options.clock ?? new TestClock();
  const runtime = await prepareRuntime(config, createLogger(config.logLevel, options.logs), clock);
  const app = await createApp(runtime);
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as AddressInfo;
  return new TestApp(app, `http://127.0.0.1:${address.port}`, config, env, clock);
}

/** One environment and one app for a test file, torn down after it. */
export async function startTestApp(
  overrides: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestApp & { teardown(): Promise<void> }> {
  const env = await createEnvironment();
  const app = await startApp(env, overrides, options);
  return Object.assign(app, {
    async teardown() {
      await app.app.close();
      await destroyEnvironment(env);
      app.responses.assertNoProblems();
    },
  });
}

/** An app whose Postgres is reached through a TCP proxy the test can stop and restart (an outage). */
export async function startAppBehindPostgresProxy(): Promise<{ app: TestApp; proxy: TcpProxy; teardown: () => Promise<void> }> {
  const env = await createEnvironment();
  const proxy = new TcpProxy(5432);
  await proxy.start();
  const url = new URL(env.databaseUrl);
  url.port = String(proxy.port);
  const app = await startApp({ ...env, databaseUrl: url.toString() });
  return {
    app,
    proxy,
    teardown: async () => {
      await app.app.close();
      await proxy.stop();
      await destroyEnvironment(env);
      app.responses.assertNoProblems();
    },
  };
}

/** A connection to the test Redis that has answered once. */
export async function connectedRedis(config: RedisConfig | string = REDIS_URL): Promise<RedisConnection> {
  const redis = new RedisConnection({
    config: typeof config === 'string' ? standaloneRedis(config) : config,
    timeoutMs: 1000,
    logger: createLogger('silent'),
  });
  redis.connect();
  for (let i = 0; i < 150; i++) {
    try {
      await redis.probe('contract:');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return redis;
}

const NO_CREDENTIALS = { username: undefined, password: undefined, sentinelPassword: undefined, tls: false, ca: undefined };

/** A standalone Redis at `url`, as configuration would describe it. */
export function standaloneRedis(url: string): RedisConfig {
  return { mode: 'standalone', url, ...NO_CREDENTIALS };
}

/** A Redis Cluster reached through these nodes. */
export function clusterRedis(nodes: Array<{ host: string; port: number }>): RedisConfig {
  return { mode: 'cluster', nodes, ...NO_CREDENTIALS };
}

/** A Redis behind these sentinels, monitored as `name`. */
export function sentinelRedis(sentinels: Array<{ host: string; port: number }>, name: string): RedisConfig {
  return { mode: 'sentinel', sentinels, name, ...NO_CREDENTIALS };
}
