import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { cutStalledRequests } from './common/http-server.js';
import { createLogger } from './common/logger.js';
import { ConfigError, loadConfig } from './config/config.js';
import { announceEmbeddedMode } from './embedded/demo.js';
import { HealthService } from './health/health.service.js';
import { prepareRuntime } from './runtime.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const runtime = await prepareRuntime(config, logger);
  const app = await createApp(runtime);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: readiness is 503, in-flight requests finish, then pools close');
    setTimeout(
      () => {
        logger.error('shutdown took too long; exiting');
        process.exit(1);
      },
      SHUTDOWN_TIMEOUT_MS + config.shutdownDrainSeconds * 1000,
    ).unref();
    try {
      app.get(HealthService).startDraining();
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000));
      await cutStalledRequests(app.getHttpServer());
      await app.close();
      await runtime.release();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  if (runtime.embedded !== undefined) await announceEmbeddedMode(app, runtime.embedded, config);
  logger.info(
    { url: config.publicUrl, docs: `${config.publicUrl}/docs`, mode: config.embedded ? 'embedded' : 'external' },
    'TOTP device-registration service listening',
  );
}

main().catch((error: unknown) => {
  const detail = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`Failed to start: ${detail}\n`);
  process.exit(1);
});
