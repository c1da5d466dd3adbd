import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiOAuth2, ApiParam } from '@nestjs/swagger';
import { OAUTH_SECURITY } from '../common/swagger.js';
import { ANY_SCOPE, REQUIRED_SCOPE, RequireScope, type Scope } from './scopes.js';

/**
 * The route's scope: enforced by BearerGuard, documented in OpenAPI as its security requirement
 * (the document builder adds the errors every protected route can give: 401, 403).
 */
export const ApiScope = (scope: Scope): MethodDecorator =>
  applyDecorators(RequireScope(scope), ApiOAuth2([scope], OAUTH_SECURITY), ApiExtension('x-required-scope', scope));

/** Any valid token, whatever its scopes (GET /v1/policy). */
export const ApiAnyScope = (): MethodDecorator =>
  applyDecorators(SetMetadata(REQUIRED_SCOPE, ANY_SCOPE), ApiOAuth2([], OAUTH_SECURITY), ApiExtension('x-required-scope', 'any'));

/** `userId` in a path (API.md §2). */
export const ApiUserId = () =>
  ApiParam({
    name: 'userId',
    description: 'Your identifier of the user: 1-128 of A-Z a-z 0-9 . _ @ + -, not "." or ".."',
    example: 'ada',
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._@+-]{1,128}$' },
  });

/** A UUID in a path. */
export const ApiUuidParam = (name: string, description: string) =>
  ApiParam({ name, description, example: '0063f27c-787b-4046-8b8e-a75e241b5ea6', schema: { type: 'string', format: 'uuid' } });
