import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, type Runtime } from './app.module.js';
import { SCOPE_DESCRIPTIONS } from './auth/scopes.js';
import { sendHttpError } from './common/http-error.filter.js';
import { hardenHttp, serverOptions } from './common/http-server.js';
import { NestPinoLogger } from './common/logger.js';
import { setupSwagger } from './common/swagger.js';
import { createValidationPipe } from './common/validation.js';

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
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
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
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app, SCOPE_DESCRIPTIONS);
  await app.init();
  return app;
}
