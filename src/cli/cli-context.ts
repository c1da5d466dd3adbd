import 'reflect-metadata';
import { ClientsRepository } from '../auth/clients.repository.js';
import { ClientsService } from '../auth/clients.service.js';
import { SystemClock } from '../common/clock.js';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { createLogger } from '../common/logger.js';
import { type AppConfig, loadConfigOrExit } from '../config/config.js';
import { Database } from '../database/database.js';
import { cliDatabase } from './cli-database.js';

/**
 * The operator CLI runs against the same database the service uses (configuration or embedded).
 * It builds the one service it needs by hand: no Nest container, no Redis, no TypeORM (a command
 * starts in a fraction of a second).
 */
export async function withClientsService<T>(action: (clients: ClientsService) => Promise<T>): Promise<T> {
  return withCliDatabase(loadConfigOrExit(), (db) => action(new ClientsService(new ClientsRepository(db), new SystemClock())));
}

/** The CLI's connection to the service's database (see cliDatabase), closed after `action`. */
export async function withCliDatabase<T>(config: AppConfig, action: (db: Database) => Promise<T>): Promise<T> {
  const database = await cliDatabase(config);
  const db = new Database({
    url: database.url,
    poolSize: 2,
    // Long enough for the bulk import's batches; an operator command, not a request.
    timeoutMs: 60_000,
    preparedStatements: config.databasePreparedStatements,
    logger: createLogger('warn'),
  });
  try {
    return await action(db);
  } finally {
    await db.close();
    await database.release();
  }
}

/** What a command died of, with the cause a dependency outage wraps (the database's own message). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error instanceof DependencyUnavailableError && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const code = (error as { code?: unknown }).code;
  return `${error.name}: ${error.message}${cause}${typeof code === 'string' ? ` (${code})` : ''}`;
}
