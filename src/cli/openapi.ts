import 'reflect-metadata';
import { NO_METRICS } from '../observability/metrics.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { documentInputs } from '../app.factory.js';
import { AppModule } from '../app.module.js';
import { SystemClock } from '../common/clock.js';
import { createLogger } from '../common/logger.js';
import { buildDocument } from '../common/swagger.js';
import { loadConfig } from '../config/config.js';
import { MemoryCounterStore } from '../counters/memory-counter.store.js';
import { BatchedStatements } from '../database/batched-statements.js';
import { Database } from '../database/database.js';
import { MemoryIdempotencyStore } from '../idempotency/memory-idempotency.store.js';
import { MemoryLoginRequestStore } from '../login/memory-login-request.store.js';
import { MemoryPendingStore } from '../pending/memory-pending.store.js';
import { SecretBox } from '../totp/secret-box.js';
import { describeFailure } from './cli-context.js';

/**
 * npm run openapi: writes the OpenAPI document the service serves at /docs-json to
 * docs/openapi.json, without a database or Redis: the application is built, not started. Its
 * server is DOCUMENT_PUBLIC_URL (a private-use name: each deployment serves its own PUBLIC_URL).
 * The typed client (clients/typescript) is generated from that file.
 */
export const DOCUMENT_PUBLIC_URL = 'https://totp-api.internal';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'docs/openapi.json';
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    REDIS_URL: 'redis://127.0.0.1:1',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: DOCUMENT_PUBLIC_URL,
  });
  const logger = createLogger('silent');
  const clock = new SystemClock();
  const runtime = {
    config,
    logger,
    clock,
    db: new Database({ url: config.databaseUrl!, poolSize: 1, timeoutMs: 1000, preparedStatements: true, logger }),
    batches: new BatchedStatements({ poolSize: 1, timeoutMs: 1000 }),
    metrics: NO_METRICS,
    redis: undefined,
    store: new MemoryPendingStore(() => clock.nowMs()),
    counters: new MemoryCounterStore(() => clock.nowMs()),
    loginRequests: new MemoryLoginRequestStore(() => clock.nowMs()),
    idempotency: new MemoryIdempotencyStore(() => clock.nowMs()),
    box: new SecretBox(config.encryptionKeys),
  };
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime), new FastifyAdapter(), { logger: false });
  const document = buildDocument(app, documentInputs(config));
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
}

if (process.argv[1]?.endsWith('openapi.js'))
  main().catch((error: unknown) => {
    process.stderr.write(`openapi: ${describeFailure(error)}\n`);
    process.exit(1);
  });
