import { createLogger } from '../common/logger.js';
import type { AppConfig } from '../config/config.js';
import { loadOrCreateState, reachableRunningDatabase, startEmbeddedPostgres } from '../embedded/embedded-database.js';

export interface CliDatabase {
  url: string;
  /** For migrations: MIGRATION_DATABASE_URL when set (a direct connection, not through a pooler). */
  migrationUrl: string;
  release(): Promise<void>;
}

/**
 * The database the operator CLI works on: DATABASE_URL, or in the embedded mode the running
 * service's embedded Postgres (or one started, and migrated, for the command when the service is
 * not running). The migration runner (TypeORM) is loaded only in that last case.
 */
export async function cliDatabase(config: AppConfig): Promise<CliDatabase> {
  if (config.databaseUrl !== undefined) {
    return { url: config.databaseUrl, migrationUrl: config.migrationDatabaseUrl ?? config.databaseUrl, release: () => Promise.resolve() };
  }
  const state = loadOrCreateState(config);
  const running = await reachableRunningDatabase(state);
  if (running !== undefined) return { url: running, migrationUrl: running, release: () => Promise.resolve() };
  const embedded = await startEmbeddedPostgres(config, state, createLogger('warn'));
  const { runMigrations } = await import('../database/migrations.js');
  await runMigrations(embedded.url);
  return { url: embedded.url, migrationUrl: embedded.url, release: () => embedded.stop() };
}
