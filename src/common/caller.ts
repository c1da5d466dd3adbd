import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling (the authenticated API client) and the request id, for use cases and audit. */
export interface Caller {
  clientId: string;
  requestId: string;
}

export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (request.client === undefined) throw new Error('CurrentCaller used on a route without BearerGuard');
  return { clientId: request.client.clientId, requestId: request.id };
});
