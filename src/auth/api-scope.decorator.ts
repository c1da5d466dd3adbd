import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiOAuth2 } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs.js';
import { OAUTH_SECURITY } from '../common/swagger.js';
import { RequireScope, type Scope } from './scopes.js';

/** The route's scope: enforced by BearerGuard, documented in OpenAPI with the errors every protected route can give. */
export function ApiScope(scope: Scope): MethodDecorator {
  return applyDecorators(
    RequireScope(scope),
    ApiOAuth2([scope], OAUTH_SECURITY),
    ApiExtension('x-required-scope', scope),
    ApiErrors('UNAUTHORIZED', 'INVALID_TOKEN', 'INSUFFICIENT_SCOPE', 'SERVICE_UNAVAILABLE'),
  );
}
