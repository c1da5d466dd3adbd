import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/domain-error.js';
import { ClientDirectory } from './client-directory.js';
import { ANY_SCOPE, PUBLIC_ROUTE, REQUIRED_SCOPE, type Scope } from './scopes.js';
import { InvalidTokenError, TokenSigner } from './token-signer.js';

/**
 * RFC 6750 bearer authentication, global: every route needs a token with its scope unless it is
 * marked @Public(). Tokens are read from the Authorization header only, never from the query.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly signer: TokenSigner,
    private readonly directory: ClientDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true) return true;
    const required = this.reflector.getAllAndOverride<Scope | typeof ANY_SCOPE | undefined>(REQUIRED_SCOPE, targets);
    const request = context.switchToHttp().getRequest<FastifyRequest>();

    const header = request.headers.authorization;
    // A JWS in compact form: three base64url parts (RFC 7515 §7.1), nothing else.
    const match = header === undefined ? null : /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i.exec(header);
    if (header === undefined || !/^bearer /i.test(header.trim())) {
      // RFC 6750 §3.1: no credentials → a challenge without an error code.
      throw new DomainError('UNAUTHORIZED', 'An access token is required');
    }
    if (match === null) throw invalidToken('The access token is malformed');
    let claims;
    try {
      claims = await this.signer.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw invalidToken(error.message);
      throw error;
    }
    // Tokens of a client disabled, or whose secret was rotated, since they were issued stop working
    // too (within the client cache's second).
    const client = await this.directory.find(claims.sub);
    if (client === null || client.disabled) throw invalidToken('The client of this access token is disabled');
    if (claims.gen !== client.tokenGeneration) throw invalidToken('The access token has been revoked');
    const scopes = claims.scope.split(' ');
    // A route that forgot its scope is refused rather than open.
    if (required === undefined || (required !== ANY_SCOPE && !scopes.includes(required))) {
      throw new DomainError('INSUFFICIENT_SCOPE', `This request needs the scope ${required ?? '(none declared)'}`, { requiredScope: required ?? '' });
    }
    request.client = { clientId: claims.sub, scopes };
    return true;
  }
}

const invalidToken = (description: string): DomainError => new DomainError('INVALID_TOKEN', description);
