import type { Logger } from 'pino';
import type { Runtime } from './app.module.js';
import { createLogger } from './common/logger.js';
import type { AppConfig } from './config/config.js';
import { createDataSource, runMigrations } from './config/data-source.js';
import { RedisPendingStore } from './pending/redis-pending.store.js';
import { SecretBox } from './totp/secret-box.js';

/**
 * Resolves what the application runs on and migrates the database before Nest starts.
 * With DATABASE_URL and REDIS_URL: those. Without: the embedded mode (see embedded/).
 */
export async function prepareRuntime(config: AppConfig, logger: Logger = createLogger(config.logLevel)): Promise<Runtime> {
  if (config.databaseUrl === undefined || config.redisUrl === undefined) {
    throw new Error('The embedded mode is not available in this build: set DATABASE_URL and REDIS_URL');
  }
  await migrate(config, config.databaseUrl, logger);
  const store = new RedisPendingStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, timeoutMs: config.dependencyTimeoutMs, logger });
  store.connect();
  return { config, logger, databaseUrl: config.databaseUrl, store, box: new SecretBox(config.encryptionKeys) };
}

export async function migrate(config: AppConfig, databaseUrl: string, logger: Logger): Promise<void> {
  const dataSource = createDataSource(config, databaseUrl);
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  } finally {
    await dataSource.destroy();
  }
}

/** The database the operator CLI works on; `release` stops anything started for it. */
export function resolveDatabaseForCli(config: AppConfig): Promise<{ url: string; release(): Promise<void> }> {
  if (config.databaseUrl === undefined) {
    return Promise.reject(new Error('Set DATABASE_URL (and REDIS_URL) to the database of the service'));
  }
  return Promise.resolve({ url: config.databaseUrl, release: () => Promise.resolve() });
}
