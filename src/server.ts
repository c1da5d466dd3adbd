import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { cutStalledRequests } from './common/http-server.js';
import { createLogger } from './common/logger.js';
import { ConfigError, loadConfigOrExit } from './config/config.js';
import { announceEmbeddedMode } from './embedded/demo.js';
import { HealthService } from './health/health.service.js';
import type { Tracing } from './observability/tracing.js';
import { prepareRuntime } from './runtime.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

/** Runs the service until SIGTERM or SIGINT (main.ts starts tracing first, when asked for, then this). */
export async function serve(tracing: Tracing | undefined): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, undefined, { format: config.logFormat, nodeEnv: config.nodeEnv, traced: tracing !== undefined });
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
      const lastCut = cutStalledRequests(app.getHttpServer());
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000));
      await lastCut();
      await app.close();
      await runtime.release();
      await tracing?.shutdown();
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
  logger.info(
    { url: config.publicUrl, docs: `${config.publicUrl}/docs`, mode: config.embedded ? 'embedded' : 'external' },
    'TOTP device-registration service listening',
  );
  // The banner last, where a person at the terminal looks.
  if (runtime.embedded !== undefined) await announceEmbeddedMode(app, runtime.embedded, config);
}

/** A start-up failure, told plainly on stderr (no stack for a configuration error). */
export function failedToStart(error: unknown): never {
  const detail = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`Failed to start: ${detail}\n`);
  process.exit(1);
}
