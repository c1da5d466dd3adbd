import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** The Accept header, read without making it a documented (and in Swagger UI, required) parameter. */
export const AcceptHeader = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const accept = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers.accept;
  return Array.isArray(accept) ? accept.join(',') : accept;
});
