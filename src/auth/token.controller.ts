import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Public, SCOPES } from './scopes.js';
import { TokenSigner } from './token-signer.js';
import { type TokenResponse, TokenService } from './token.service.js';

const oauthError = (error: string, description: string) => ({ schema: { example: { error, error_description: description } } });

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
    summary: 'Get an access token (client credentials, RFC 6749 §4.4)',
    description:
      'Authenticate with HTTP Basic (client_secret_basic) or client_id + client_secret in the body (client_secret_post), not both. ' +
      "`scope` is optional (space-separated subset of the client's scopes; default: all of them). No refresh token.",
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['grant_type'],
      properties: {
        grant_type: { type: 'string', enum: ['client_credentials'] },
        scope: { type: 'string', example: SCOPES.join(' ') },
        client_id: { type: 'string', format: 'uuid', description: 'client_secret_post only' },
        client_secret: { type: 'string', description: 'client_secret_post only' },
      },
    },
  })
  @ApiOkResponse({
    description: 'Access token (headers: Cache-Control: no-store, Pragma: no-cache)',
    schema: {
      example: {
        access_token: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9…',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: SCOPES.join(' '),
      },
    },
  })
  @ApiResponse({
    status: 400,
    description: 'invalid_request | unsupported_grant_type | invalid_scope | unauthorized_client (client disabled)',
    ...oauthError('invalid_scope', 'This client may not request: otp:verify'),
  })
  @ApiResponse({
    status: 401,
    description: 'invalid_client; WWW-Authenticate: Basic when Basic was used',
    ...oauthError('invalid_client', 'Client authentication failed'),
  })
  @ApiResponse({
    status: 429,
    description: 'too_many_requests: too many failed client authentications, with Retry-After',
    ...oauthError('too_many_requests', 'Too many failed client authentications; retry later'),
  })
  @ApiResponse({
    status: 503,
    description: 'temporarily_unavailable, with Retry-After',
    ...oauthError('temporarily_unavailable', 'The service is temporarily unavailable, please retry shortly'),
  })
  token(@Req() request: FastifyRequest, @Body() body: unknown): Promise<TokenResponse> {
    return this.tokens.issue({ authorization: request.headers.authorization, body, ip: request.ip });
  }

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys of the access-token signatures (RFC 7517)' })
  @ApiOkResponse({ schema: { example: { keys: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: '…', alg: 'ES256', use: 'sig' }] } } })
  jwks(): JSONWebKeySet {
    return this.signer.jsonWebKeySet();
  }

  @Get('.well-known/oauth-authorization-server')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ description: 'RFC 8414 metadata' })
  metadata(): Record<string, unknown> {
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
