import { DataSource, type DataSourceOptions, MigrationExecutor } from 'typeorm';
import { MIGRATIONS } from '../migrations/index.js';

/**
 * TypeORM's part: the schema, only from migrations (synchronize off everywhere), run by the service
 * at start-up, by `npm run migration:run` and by the tests alike. Queries do not go through TypeORM
 * (database/database.ts).
 */
function migrationDataSource(url: string, migrations: DataSourceOptions['migrations'] = MIGRATIONS): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: 1, application_name: 'totp-device-registration (migrations)' },
  });
}

// Any constant works; all replicas must use the same one.
const MIGRATION_LOCK = 734_201_337;

/**
 * Runs pending migrations, all in one transaction that first takes a transaction-scoped advisory
 * lock: replicas starting at once take turns (the first migrates, the others then find nothing to
 * do), and the lock ends with the transaction, so it cannot leak onto a pooled server connection
 * (PgBouncer in transaction mode) the way a session lock does. A failing migration leaves nothing.
 */
export async function runMigrations(url: string, migrations: DataSourceOptions['migrations'] = MIGRATIONS): Promise<string[]> {
  const dataSource = migrationDataSource(url, migrations);
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'all';
    const done = await executor.executePendingMigrations();
    await runner.commitTransaction();
    return done.map((m) => m.name);
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}
