/**
 * Every error the service answers on purpose carries one of these codes; the one HTTP filter maps
 * each code to its status with an exhaustive switch (common/http-error.filter.ts).
 */
export const ERROR_CODE_LIST = [
  'VALIDATION_FAILED',
  'INVALID_REQUEST',
  'UNSUPPORTED_DEVICE_TYPE',
  'INVALID_OTP',
  'INVALID_RECOVERY_CODE',
  'INVALID_OCRA_RESPONSE',
  'UNAUTHORIZED',
  'INVALID_TOKEN',
  'INSUFFICIENT_SCOPE',
  'NOT_FOUND',
  'REGISTRATION_NOT_FOUND',
  'DEVICE_NOT_FOUND',
  'LOGIN_REQUEST_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
  'ALREADY_ACTIVE',
  'ACTIVATION_IN_PROGRESS',
  'DEVICE_NAME_TAKEN',
  'DEVICE_LIMIT_REACHED',
  'LOGIN_REQUEST_NOT_PENDING',
  'LOGIN_REQUEST_BUSY',
  'LOGIN_REQUEST_NOT_APPROVED',
  'ALREADY_REDEEMED',
  'IDEMPOTENCY_KEY_IN_USE',
  'DEVICE_ALREADY_IMPORTED',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'HEADERS_TOO_LARGE',
  'TOO_MANY_ATTEMPTS',
  'DEVICE_LOCKED',
  'USER_LOCKED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODE_LIST)[number];

/** The exhaustive map from domain codes to HTTP statuses. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'INVALID_REQUEST':
    case 'UNSUPPORTED_DEVICE_TYPE':
    case 'INVALID_OTP':
    case 'INVALID_RECOVERY_CODE':
    case 'INVALID_OCRA_RESPONSE':
      return 400;
    case 'UNAUTHORIZED':
    case 'INVALID_TOKEN':
      return 401;
    case 'INSUFFICIENT_SCOPE':
      return 403;
    case 'NOT_FOUND':
    case 'REGISTRATION_NOT_FOUND':
    case 'DEVICE_NOT_FOUND':
    case 'LOGIN_REQUEST_NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'REQUEST_TIMEOUT':
      return 408;
    case 'ALREADY_ACTIVE':
    case 'ACTIVATION_IN_PROGRESS':
    case 'DEVICE_NAME_TAKEN':
    case 'DEVICE_LIMIT_REACHED':
    case 'LOGIN_REQUEST_NOT_PENDING':
    case 'LOGIN_REQUEST_BUSY':
    case 'LOGIN_REQUEST_NOT_APPROVED':
    case 'ALREADY_REDEEMED':
    case 'IDEMPOTENCY_KEY_IN_USE':
    case 'DEVICE_ALREADY_IMPORTED':
      return 409;
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'TOO_MANY_ATTEMPTS':
    case 'DEVICE_LOCKED':
    case 'USER_LOCKED':
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL_ERROR':
      return 500;
    case 'SERVICE_UNAVAILABLE':
      return 503;
  }
}
