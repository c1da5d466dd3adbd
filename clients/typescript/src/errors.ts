import type { components } from './schema.js';

export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];
/** Every code the service documents (ErrorEnvelope.code); each operation's own subset is in its responses. */
export type ErrorCode = ErrorEnvelope['code'];
export type OAuthErrorCode = components['schemas']['OAuthError']['error'];

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** An error answer of the API (the ErrorEnvelope), with its fields typed. */
export class TotpApiError extends Error {
  override readonly name = 'TotpApiError';
  readonly status: number;
  readonly code: ErrorCode;
  readonly requestId: string | undefined;
  /** VALIDATION_FAILED: every problem, by field. */
  readonly errors: ErrorEnvelope['errors'];
  /** INVALID_OTP on activation, INVALID_OCRA_RESPONSE: wrong answers left before the registration or login request is gone. */
  readonly remainingAttempts: number | undefined;
  /** LOGIN_REQUEST_NOT_PENDING, LOGIN_REQUEST_NOT_APPROVED: the login request's status. */
  readonly loginStatus: ErrorEnvelope['loginStatus'];
  /** DEVICE_LOCKED: when the lock ends. */
  readonly lockedUntil: string | undefined;
  /** From Retry-After (503, 429, DEVICE_LOCKED): when a retry can succeed. */
  readonly retryAfterSeconds: number | undefined;
  readonly body: ErrorEnvelope | undefined;

  constructor(response: Response, body: unknown) {
    const envelope = isEnvelope(body) ? body : undefined;
    super(envelope?.message ?? `HTTP ${response.status} ${response.statusText}`.trim());
    this.status = response.status;
    this.code = envelope?.code ?? (response.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'INVALID_REQUEST');
    this.requestId = envelope?.requestId ?? response.headers.get('x-request-id') ?? undefined;
    this.errors = envelope?.errors;
    this.remainingAttempts = envelope?.remainingAttempts;
    this.lockedUntil = envelope?.lockedUntil;
    this.loginStatus = envelope?.loginStatus;
    this.retryAfterSeconds = retryAfterSeconds(response.headers);
    this.body = envelope;
  }
}

/** The token endpoint refused (RFC 6749 §5.2): wrong credentials, a scope not granted, throttled, unavailable. */
export class TotpTokenError extends Error {
  override readonly name = 'TotpTokenError';
  readonly status: number;
  readonly error: OAuthErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(response: Response, body: unknown) {
    const oauth = isOAuthError(body) ? body : undefined;
    super(oauth?.error_description ?? `token request failed: HTTP ${response.status}`);
    this.status = response.status;
    this.error = oauth?.error ?? (response.status >= 500 ? 'temporarily_unavailable' : 'invalid_request');
    this.retryAfterSeconds = retryAfterSeconds(response.headers);
  }
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { status?: unknown }).status === 'FAILED' &&
    typeof (body as { code?: unknown }).code === 'string'
  );
}

function isOAuthError(body: unknown): body is components['schemas']['OAuthError'] {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

/** The data of a successful openapi-fetch result, or the API's error thrown as a TotpApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw new TotpApiError(result.response, result.error);
  return result.data as T;
}
