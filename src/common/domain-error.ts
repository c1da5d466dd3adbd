/**
 * Every error the service answers on purpose carries one of these codes; the one HTTP filter maps
 * each code to its status with an exhaustive switch (common/http-error.filter.ts).
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_REQUEST'
  | 'UNSUPPORTED_DEVICE_TYPE'
  | 'INVALID_OTP'
  | 'UNAUTHORIZED'
  | 'INVALID_TOKEN'
  | 'INSUFFICIENT_SCOPE'
  | 'NOT_FOUND'
  | 'REGISTRATION_NOT_FOUND'
  | 'DEVICE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'ALREADY_ACTIVE'
  | 'ACTIVATION_IN_PROGRESS'
  | 'DEVICE_NAME_TAKEN'
  | 'DEVICE_LIMIT_REACHED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'TOO_MANY_ATTEMPTS'
  | 'DEVICE_LOCKED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export interface FieldError {
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  /** Extra members of the error body, e.g. remainingAttempts. */
  extra?: Record<string, string | number>;
  errors?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly extra: Record<string, string | number>;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.extra = options.extra ?? {};
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** A dependency (Postgres, Redis) did not answer in time or refused: 503 with Retry-After. */
export class DependencyUnavailableError extends DomainError {
  constructor(dependency: 'postgres' | 'redis', cause?: unknown) {
    super('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable, please retry shortly', {
      headers: { 'retry-after': '2' },
      cause,
    });
    this.dependency = dependency;
  }
  readonly dependency: 'postgres' | 'redis';
}

export const validationError = (errors: FieldError[]): DomainError =>
  new DomainError('VALIDATION_FAILED', 'The request is not valid', { errors });
