import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, type Runtime } from './app.module.js';
import { sendHttpError } from './common/http-error.filter.js';
import { NestPinoLogger } from './common/logger.js';
import { setupSwagger } from './common/swagger.js';
import { createValidationPipe } from './common/validation.js';

export const BODY_LIMIT_BYTES = 16 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the application: Fastify adapter, the one error filter, validation, Swagger, shutdown hooks. */
export async function createApp(runtime: Runtime): Promise<NestFastifyApplication> {
  const { logger, config } = runtime;
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // userId may be 128 characters (API.md §2); Fastify's default cap on a path parameter is 100.
    routerOptions: { maxParamLength: 256 },
    trustProxy: config.trustProxy,
    // A caller's X-Request-Id is kept when it is well-formed, so logs correlate across services.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
    return503OnClosing: true,
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
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (logger.isLevelEnabled('info')) {
      logger.info(
        { reqId: request.id, method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    }
    done();
  });
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  await app.init();
  return app;
}
