import { DataSource, type DataSourceOptions } from 'typeorm';
import { OAuthClientEntity } from '../auth/oauth-client.entity.js';
import { SigningKeyEntity } from '../auth/signing-key.entity.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { DeviceEntity } from '../devices/device.entity.js';
import { MIGRATIONS } from '../migrations/index.js';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';

export const ENTITIES = [OAuthClientEntity, SigningKeyEntity, DeviceEntity, AuditEventEntity];
export { MIGRATIONS };

/** The one description of the database, used by the service, the CLI and the tests. */
export function dataSourceOptions(config: AppConfig, databaseUrl: string, logger?: Logger, purpose: 'service' | 'migrations' = 'service'): DataSourceOptions {
  // The server gives up on a statement before the client does, so a request that answered 503
  // has not half-happened (a slow insert committing after the caller was told it failed).
  const timeouts =
    purpose === 'service' ? { statement_timeout: config.dependencyTimeoutMs, query_timeout: config.dependencyTimeoutMs + 500 } : { statement_timeout: 0 };
  return {
    type: 'postgres',
    // Idle pooled connections emit errors when Postgres restarts; handled here, they never crash
    // the process, and the pool replaces them.
    poolErrorHandler: (error: unknown) => logger?.warn({ err: error }, 'postgres pool connection error'),
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // Failed queries surface through the error filter; TypeORM's own logger would print parameters.
    logging: false,
    extra: {
      max: config.dbPoolSize,
      // Bounded waits: an outage must answer 503 quickly, never hang a request.
      connectionTimeoutMillis: config.dependencyTimeoutMs,
      ...timeouts,
      idleTimeoutMillis: 30_000,
      application_name: 'totp-device-registration',
    },
  };
}

// Any constant works; all replicas must use the same one.
const MIGRATION_LOCK = 734_201_337;

/**
 * Runs pending migrations under a Postgres advisory lock, so replicas starting at once take
 * turns: the first migrates, the others then find nothing to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export function createDataSource(config: AppConfig, databaseUrl: string, logger?: Logger, purpose: 'service' | 'migrations' = 'service'): DataSource {
  return new DataSource(dataSourceOptions(config, databaseUrl, logger, purpose));
}
