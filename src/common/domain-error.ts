import type { ErrorCode } from './error-codes.js';

export type { ErrorCode };

export interface FieldError {
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  /** Extra members of the error body, e.g. remainingAttempts. */
  extra?: Record<string, string | number>;
  errors?: FieldError[];
  /** When a retry can succeed (the filter answers it as Retry-After). */
  retryAfterSeconds?: number;
  /** INSUFFICIENT_SCOPE: the scope the route needs (the filter puts it in the Bearer challenge). */
  requiredScope?: string;
  cause?: unknown;
}

/** An error the service answers on purpose. Domain facts only: the one filter makes them HTTP. */
export class DomainError extends Error {
  readonly extra: Record<string, string | number>;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly requiredScope: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.extra = options.extra ?? {};
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterSeconds));
    this.requiredScope = options.requiredScope;
  }
}

/** A dependency (Postgres, Redis) did not answer in time or refused: 503 with Retry-After. */
export class DependencyUnavailableError extends DomainError {
  constructor(
    readonly dependency: 'postgres' | 'redis',
    cause?: unknown,
  ) {
    super('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable, please retry shortly', { retryAfterSeconds: 2, cause });
  }
}

export const validationError = (errors: FieldError[]): DomainError => new DomainError('VALIDATION_FAILED', 'The request is not valid', { errors });
