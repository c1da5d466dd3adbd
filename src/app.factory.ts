import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, type Runtime } from './app.module.js';
import { AUDIT_EVENT_SCHEMAS } from './audit/audit.dto.js';
import { SCOPE_DESCRIPTIONS } from './auth/scopes.js';
import type { AppConfig } from './config/config.js';
import { sendHttpError } from './common/http-error.filter.js';
import { hardenHttp, serverOptions } from './common/http-server.js';
import { keepIdempotentAnswers } from './idempotency/idempotency.interceptor.js';
import { IdempotencyStore } from './idempotency/idempotency.store.js';
import { NestPinoLogger } from './common/logger.js';
import { nameServerSpan } from './observability/span-names.js';
import { buildDocument, type DocumentInputs, serveDocs } from './common/swagger.js';
import { createValidationPipe } from './common/validation.js';

const TAGS = [
  {
    name: 'OAuth 2.0',
    description: 'Access tokens by the client-credentials grant (RFC 6749 §4.4), the signing keys (JWKS) and server metadata (RFC 8414)',
  },
  {
    name: 'Devices',
    description:
      'Enrol an authenticator app: create (pending), show the QR code, activate with the first code; list, read, rename and delete devices',
  },
  { name: 'Verification', description: "The login step: verify a code against one device or against all of a user's devices" },
  {
    name: 'Recovery codes',
    description: 'One-time codes for a user who lost the phone: issued at the first activation, verified once each, regenerated',
  },
  {
    name: 'Login by QR code',
    description:
      "The web page shows a QR code, the user's app approves or denies with an OCRA response (RFC 6287); the web app long-polls the status and redeems the approval once",
  },
  { name: 'Policy', description: "The caller's TOTP policy for new devices (set per client by operators)" },
  { name: 'Users', description: 'Erase everything of a user' },
  { name: 'Audit', description: 'The security events of a user' },
  { name: 'Operations', description: 'Liveness and readiness probes' },
];

/** What the OpenAPI document is built from, besides the decorators. */
export const documentInputs = (config: AppConfig): DocumentInputs => ({
  publicUrl: config.publicUrl,
  scopes: SCOPE_DESCRIPTIONS,
  tags: TAGS,
  schemas: AUDIT_EVENT_SCHEMAS,
});

/** Builds the application: Fastify adapter, the one error filter, validation, Swagger, shutdown hooks. */
export async function createApp(runtime: Runtime): Promise<NestFastifyApplication> {
  const { logger, config } = runtime;
  const adapter = new FastifyAdapter({
    ...serverOptions(config),
    // Errors Fastify raises before routing (a malformed URL, bad percent-encoding) get the envelope too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void sendHttpError(error, request, reply, logger),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime), adapter, {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Callback-style hooks: no promise per request on the hot path.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    nameServerSpan(request.method, request.routeOptions.url);
    done();
  });
  const { metrics } = runtime;
  fastify.addHook('onResponse', (request, reply, done) => {
    // The route template (never the path, which holds user and device ids).
    if (metrics.enabled) metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          reqId: request.id,
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    }
    done();
  });
  hardenHttp(app, config, logger);
  keepIdempotentAnswers(fastify, app.get(IdempotencyStore), logger);
  app.useGlobalPipes(createValidationPipe());
  serveDocs(app, buildDocument(app, documentInputs(config)));
  await app.init();
  return app;
}
