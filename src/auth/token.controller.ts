import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExcludeEndpoint, ApiExtension, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ApiErrors } from '../common/openapi/error-docs.js';
import { NO_STORE_NO_CACHE } from '../common/openapi/headers.js';
import { OAUTH_ERRORS_EXTENSION } from '../common/openapi/schemas.js';
import { AuthorizationServerMetadataDto, JwksDto, TokenRequestDto, TokenResponseDto } from './dto/token.dto.js';
import { Public, SCOPES } from './scopes.js';
import { TokenSigner } from './token-signer.js';
import { type TokenResponse, TokenService } from './token.service.js';

@ApiTags('OAuth 2.0')
@Public()
@Controller()
export class TokenController {
  constructor(
    private readonly tokens: TokenService,
    private readonly signer: TokenSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('oauth/token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    operationId: 'issueToken',
    summary: 'Get an access token (client credentials, RFC 6749 §4.4)',
    description:
      'Authenticate with HTTP Basic (client_secret_basic) or client_id + client_secret in the body (client_secret_post), not both. ' +
      "`scope` is optional (space-separated subset of the client's scopes; default: all of them). No refresh token. " +
      'Unknown parameters are ignored (RFC 6749 §3.1).',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto, description: 'An access token', headers: NO_STORE_NO_CACHE })
  @ApiExtension(OAUTH_ERRORS_EXTENSION, true)
  @ApiErrors()
  token(@Req() request: FastifyRequest, @Body() body: unknown): Promise<TokenResponse> {
    return this.tokens.issue({ authorization: request.headers.authorization, body, ip: request.ip });
  }

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ operationId: 'getJwks', summary: 'Public keys of the access-token signatures (RFC 7517)' })
  @ApiOkResponse({
    type: JwksDto,
    description: 'The key set',
    headers: { 'Cache-Control': { description: 'public, max-age=300', required: true, schema: { type: 'string' } } },
  })
  @ApiErrors()
  jwks(): JSONWebKeySet {
    return this.signer.jsonWebKeySet();
  }

  @Get('.well-known/oauth-authorization-server')
  @ApiOperation({ operationId: 'getAuthorizationServerMetadata', summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ type: AuthorizationServerMetadataDto, description: 'RFC 8414 metadata' })
  @ApiErrors()
  metadata(): AuthorizationServerMetadataDto {
    const base = this.config.publicUrl;
    return {
      issuer: base,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: [...SCOPES],
      response_types_supported: [],
      service_documentation: `${base}/docs`,
    };
  }

  @Get('favicon.ico')
  @ApiExcludeEndpoint()
  @HttpCode(204)
  favicon(): void {
    return undefined;
  }
}
