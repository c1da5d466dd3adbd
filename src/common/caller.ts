import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling (the authenticated API client, set by the bearer guard) and the request id. */
export interface Caller {
  clientId: string;
  requestId: string;
}

/** What the bearer guard learnt about the request's client. */
export interface AuthenticatedClient {
  clientId: string;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    client?: AuthenticatedClient;
  }
}

export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (request.client === undefined) throw new Error('CurrentCaller used on a route without BearerGuard');
  return { clientId: request.client.clientId, requestId: request.id };
});
