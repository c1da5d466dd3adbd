import 'reflect-metadata';
import { createLogger } from '../common/logger.js';
import { migrate } from '../runtime.js';
import { loadConfigOrExit } from '../config/config.js';
import { describeFailure } from './cli-context.js';
import { cliDatabase } from './cli-database.js';

/** npm run migration:run — the same migrations the service runs at start-up, under the same lock. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const database = await cliDatabase(config);
  try {
    await migrate(database.migrationUrl, createLogger('info'));
  } finally {
    await database.release();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${describeFailure(error)}\n`);
  process.exit(1);
});
