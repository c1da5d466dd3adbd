import type { HeaderObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ERROR_CODE_LIST } from '../error-codes.js';
import type { OAuthErrorCode } from '../oauth-error.js';

/** Marks the token endpoint, whose errors are RFC 6749 §5.2 bodies rather than the envelope. */
export const OAUTH_ERRORS_EXTENSION = 'x-oauth-errors';

export const ERROR_SCHEMAS: Record<string, SchemaObject> = {
  FieldError: {
    type: 'object',
    required: ['field', 'message'],
    additionalProperties: false,
    properties: { field: { type: 'string', example: 'otp' }, message: { type: 'string', example: 'otp must be 6 to 8 digits' } },
  },
  ErrorEnvelope: {
    type: 'object',
    description: 'Every error outside /oauth/token. `code` is stable; each operation lists the codes it can answer.',
    required: ['status', 'code', 'message', 'requestId'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['FAILED'] },
      code: { type: 'string', enum: [...ERROR_CODE_LIST] },
      message: { type: 'string', description: 'For people; may change' },
      requestId: { type: 'string', description: 'Also in X-Request-Id and in every log line of the request' },
      errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' }, description: 'VALIDATION_FAILED: every problem, by field' },
      remainingAttempts: {
        type: 'integer',
        minimum: 0,
        description:
          'INVALID_OTP on activation: wrong codes left before the registration is destroyed; INVALID_OCRA_RESPONSE: ' +
          'wrong responses left before the login request fails',
      },
      lockedUntil: { type: 'string', format: 'date-time', description: 'DEVICE_LOCKED, USER_LOCKED: when the lock ends' },
      loginStatus: {
        type: 'string',
        enum: ['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'FAILED'],
        description: 'LOGIN_REQUEST_NOT_PENDING, LOGIN_REQUEST_NOT_APPROVED: the status the login request has',
      },
      postgres: { type: 'string', enum: ['UP', 'DOWN'], description: 'Readiness only' },
      redis: { type: 'string', enum: ['UP', 'DOWN'], description: 'Readiness only' },
    },
  },
  OAuthError: {
    type: 'object',
    description: 'RFC 6749 §5.2',
    required: ['error', 'error_description'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'string',
        enum: [
          'invalid_request',
          'invalid_client',
          'unauthorized_client',
          'unsupported_grant_type',
          'invalid_scope',
          'too_many_requests',
          'temporarily_unavailable',
        ] satisfies OAuthErrorCode[],
      },
      error_description: { type: 'string' },
    },
  },
};

/** Response headers, used inline (with `required`: sent with every response of that status). */
export const HEADERS = {
  XRequestId: { description: "The request id: the caller's well-formed X-Request-Id, or a new UUID", schema: { type: 'string' } },
  RetryAfter: { description: 'Seconds after which a retry can succeed', schema: { type: 'integer', minimum: 1 } },
  WWWAuthenticateBearer: {
    description: 'RFC 6750 §3: `Bearer realm="…"`, with `error="invalid_token"` or `error="insufficient_scope", scope="…"`',
    schema: { type: 'string' },
  },
  WWWAuthenticateBasic: { description: 'After HTTP Basic client authentication failed: `Basic realm="…"`', schema: { type: 'string' } },
  CacheControlNoStore: {
    description: 'The response carries a secret or a short-lived image: never cached',
    schema: { type: 'string', enum: ['no-store'] },
  },
  PragmaNoCache: { description: 'RFC 6749 §5.1', schema: { type: 'string', enum: ['no-cache'] } },
  IdempotentReplayed: {
    description: 'The answer of an earlier request with the same Idempotency-Key and body, sent again',
    schema: { type: 'string', enum: ['true'] },
  },
} satisfies Record<string, HeaderObject>;

export type HeaderName = keyof typeof HEADERS;

/** A header of a response; `required` when every response of that status carries it. */
export const header = (name: HeaderName, required = true): HeaderObject => ({ ...HEADERS[name], required });

const oauthError = (description: string, examples: Array<[OAuthErrorCode, string]>, headers: Record<string, HeaderObject> = {}): ResponseObject => ({
  description,
  headers: { 'X-Request-Id': header('XRequestId'), 'Cache-Control': header('CacheControlNoStore'), Pragma: header('PragmaNoCache'), ...headers },
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/OAuthError' },
      examples: Object.fromEntries(examples.map(([error, text]) => [error, { summary: error, value: { error, error_description: text } }])),
    },
  },
});

/** The token endpoint's error responses (RFC 6749 §5.2, plus 413/415/429/503 with the same body). */
export function oauthErrorResponses(): Record<string, ResponseObject> {
  return {
    '400': oauthError('invalid_request | unsupported_grant_type | invalid_scope | unauthorized_client (the client is disabled)', [
      ['invalid_request', 'grant_type is required'],
      ['unsupported_grant_type', 'Only the client_credentials grant is supported'],
      ['invalid_scope', 'This client may not request: otp:verify'],
      ['unauthorized_client', 'This client is disabled'],
    ]),
    '401': oauthError(
      'invalid_client; with WWW-Authenticate: Basic when the client used HTTP Basic',
      [['invalid_client', 'Client authentication failed']],
      {
        'WWW-Authenticate': header('WWWAuthenticateBasic', false),
      },
    ),
    '413': oauthError('invalid_request: the body is larger than 16 KiB', [['invalid_request', 'The request body is larger than 16 KiB']]),
    '415': oauthError('invalid_request: the body is neither form-encoded nor JSON, or not UTF-8', [
      ['invalid_request', 'Send the body as application/x-www-form-urlencoded or application/json in UTF-8'],
    ]),
    '429': oauthError(
      'too_many_requests: too many failed client authentications from this address',
      [['too_many_requests', 'Too many failed client authentications; retry later']],
      {
        'Retry-After': header('RetryAfter'),
      },
    ),
    '503': oauthError('temporarily_unavailable', [['temporarily_unavailable', 'The service is temporarily unavailable, please retry shortly']], {
      'Retry-After': header('RetryAfter'),
    }),
  };
}
