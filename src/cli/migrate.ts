import 'reflect-metadata';
import { createLogger } from '../common/logger.js';
import { resolveDatabaseForCli, migrate } from '../runtime.js';
import { loadConfigOrExit } from './cli-context.js';

/** npm run migration:run — the same migrations the service runs at start-up, under the same lock. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const database = await resolveDatabaseForCli(config);
  try {
    await migrate(database.migrationUrl, createLogger('info'));
  } finally {
    await database.release();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
