import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest, RawServerBase, RouteGenericInterface } from 'fastify';

/** Any Fastify request or reply (HTTP/1 or HTTP/2 server types), as hooks and Nest hand them over. */
type AnyRequest = FastifyRequest<RouteGenericInterface, RawServerBase>;
type AnyReply = FastifyReply<RouteGenericInterface, RawServerBase>;
import type { Logger } from 'pino';
import { OAuthError } from './oauth-error.js';
import { DependencyUnavailableError, DomainError } from './domain-error.js';
import { statusOf } from './error-codes.js';
import { LOGGER } from './logger.js';
import { ReplayedResponse, sendReplay } from './replayed-response.js';

export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Errors raised by Nest or Fastify before our code runs (routing, body parsing) become domain errors. */
function fromFrameworkError(error: unknown): DomainError | undefined {
  const status =
    error instanceof HttpException
      ? error.getStatus()
      : typeof (error as { statusCode?: unknown }).statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : undefined;
  if (status === undefined || status >= 500) return undefined;
  switch (status) {
    case 404:
      return new DomainError('NOT_FOUND', 'No such route');
    case 405:
      return new DomainError('METHOD_NOT_ALLOWED', 'Method not allowed on this route');
    case 413:
      return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is larger than 16 KiB');
    case 415:
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    default:
      return new DomainError('INVALID_REQUEST', describeBadRequest(error));
  }
}

function describeBadRequest(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'The JSON body is empty';
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'The body is not valid JSON';
  return 'The request is malformed';
}

/**
 * The one place where errors become HTTP. Used by the Nest filter and by the Fastify error and
 * not-found handlers, so errors raised before Nest's pipeline (body limit, JSON syntax) look the same.
 */
function toHttpError(error: unknown, request: AnyRequest, logger: Logger): HttpErrorResponse {
  // RFC 6749 §5.2 errors for the token route only (POST); any other method there is a plain 404.
  const isTokenEndpoint = request.method === 'POST' && /^\/oauth\/token(?:\?|$)/.test(request.url);
  let domain: DomainError | undefined;
  if (error instanceof OAuthError) {
    return oauthResponse(error);
  } else if (error instanceof DomainError) {
    domain = error;
  } else {
    domain = fromFrameworkError(error);
  }
  if (domain === undefined) {
    logger.error({ err: error, reqId: request.id, route: request.routeOptions.url }, 'unhandled error');
    domain = new DomainError('INTERNAL_ERROR', 'An unexpected error occurred');
  } else if (domain instanceof DependencyUnavailableError) {
    logger.warn({ reqId: request.id, dependency: domain.dependency, err: domain.cause }, 'dependency unavailable');
  }
  if (isTokenEndpoint) {
    return oauthResponse(toOAuthError(domain));
  }
  const body: Record<string, unknown> = {
    status: 'FAILED',
    code: domain.code,
    message: domain.message,
    requestId: request.id,
    ...domain.extra,
  };
  if (domain.errors !== undefined) body.errors = domain.errors;
  return { status: statusOf(domain.code), headers: headersOf(domain), body };
}

const REALM = 'realm="totp-device-registration"';

/** RFC 6750 §3 challenges for the bearer errors, Retry-After where a retry can succeed. */
function headersOf(error: DomainError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = `Bearer ${REALM}`;
  if (error.code === 'INVALID_TOKEN') headers['www-authenticate'] = `Bearer ${REALM}, error="invalid_token", error_description="${error.message}"`;
  if (error.code === 'INSUFFICIENT_SCOPE') {
    headers['www-authenticate'] =
      `Bearer ${REALM}, error="insufficient_scope", error_description="The access token lacks the required scope", scope="${error.requiredScope ?? ''}"`;
  }
  return headers;
}

function toOAuthError(error: DomainError): OAuthError {
  const status = statusOf(error.code);
  if (status >= 500) return new OAuthError('temporarily_unavailable', error.message, { status, retryAfterSeconds: error.retryAfterSeconds });
  return new OAuthError('invalid_request', error.message, { status });
}

function oauthResponse(error: OAuthError): HttpErrorResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' };
  if (error.options.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.options.retryAfterSeconds);
  // RFC 6749 §5.2: a client that authenticated with HTTP Basic gets the Basic challenge back.
  if (error.options.basicChallenge === true) headers['www-authenticate'] = `Basic ${REALM}`;
  return { status: error.status, headers, body: { error: error.error, error_description: error.description } };
}

export async function sendHttpError(error: unknown, request: AnyRequest, reply: AnyReply, logger: Logger): Promise<void> {
  const response = toHttpError(error, request, logger);
  // Also here: errors raised before routing (a malformed URL) never ran the onRequest hook that sets it.
  await reply
    .status(response.status)
    .headers({ ...response.headers, 'x-request-id': request.id })
    .type('application/json; charset=utf-8')
    .send(response.body);
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  async catch(error: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    // Not an error: the kept answer of an earlier request with the same Idempotency-Key.
    if (error instanceof ReplayedResponse) return sendReplay(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
    await sendHttpError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}
