import { ApiExtension } from '@nestjs/swagger';
import type { ErrorCode } from '../error-codes.js';

/** A code a route answers, with what its example body adds (e.g. remainingAttempts on activation). */
export type DocumentedError = ErrorCode | { code: ErrorCode; extra: Record<string, unknown> };

export const ERROR_CODES_EXTENSION = 'x-error-codes';

/**
 * The error codes a route answers on its own account. Those every route (or every route with a
 * body, parameters or a scope) can answer are added by the document builder (openapi/document.ts),
 * which turns them into responses with the ErrorEnvelope schema, the codes as an enum, examples and
 * headers.
 */
export const ApiErrors = (...codes: DocumentedError[]): MethodDecorator & ClassDecorator => ApiExtension(ERROR_CODES_EXTENSION, codes);

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'The request is not valid',
  INVALID_REQUEST: 'The request is malformed',
  UNSUPPORTED_DEVICE_TYPE: 'deviceType must be TOTP',
  INVALID_OTP: 'The OTP is not valid',
  INVALID_RECOVERY_CODE: 'The recovery code is not valid (unknown or already used)',
  USER_LOCKED: 'Too many wrong recovery codes: the user is locked',
  INVALID_OCRA_RESPONSE: 'The OCRA response does not prove this device',
  LOGIN_REQUEST_NOT_FOUND: 'No login request with this id for this user (unknown, or past its retention)',
  LOGIN_REQUEST_NOT_PENDING: 'The login request is no longer pending',
  LOGIN_REQUEST_BUSY: 'Another decision on this login request is being checked; retry in a moment',
  LOGIN_REQUEST_NOT_APPROVED: 'The login request is not approved',
  ALREADY_REDEEMED: 'This approval has already been redeemed',
  DEVICE_ALREADY_IMPORTED: 'This client has already imported a device with this externalId',
  IDEMPOTENCY_KEY_IN_USE: 'A request with this Idempotency-Key is still being processed; retry in a moment',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used for another request (method, path or body)',
  UNAUTHORIZED: 'An access token is required',
  INVALID_TOKEN: 'The access token has expired',
  INSUFFICIENT_SCOPE: 'This request needs the scope devices:write',
  REGISTRATION_NOT_FOUND: 'No pending registration with this authId (unknown, expired or already used)',
  DEVICE_NOT_FOUND: 'No device with this id for this user',
  REQUEST_TIMEOUT: 'The request did not arrive in time',
  ALREADY_ACTIVE: 'This device is already activated',
  ACTIVATION_IN_PROGRESS: 'Another activation of this registration is in progress; retry in a moment',
  DEVICE_NAME_TAKEN: 'The user already has an active device with this name',
  DEVICE_LIMIT_REACHED: 'A user may have at most 10 active devices',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 16 KiB',
  UNSUPPORTED_MEDIA_TYPE: 'Send the body as application/json in UTF-8',
  HEADERS_TOO_LARGE: 'The request headers are too large',
  TOO_MANY_ATTEMPTS: 'Too many wrong OTPs: the registration was destroyed; create a new one',
  DEVICE_LOCKED: 'Too many failed verifications: the device is locked',
  RATE_LIMITED: 'Too many requests for this client; slow down',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable, please retry shortly',
};

const EXAMPLE_EXTRA: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  VALIDATION_FAILED: { errors: [{ field: 'otp', message: 'otp must be 6 to 8 digits' }] },
  DEVICE_LOCKED: { lockedUntil: '2026-11-22T10:15:00.000Z' },
  USER_LOCKED: { lockedUntil: '2026-11-22T10:15:00.000Z' },
  INVALID_OCRA_RESPONSE: { remainingAttempts: 2 },
  LOGIN_REQUEST_NOT_PENDING: { loginStatus: 'APPROVED' },
  LOGIN_REQUEST_NOT_APPROVED: { loginStatus: 'PENDING' },
};

export const codeOf = (e: DocumentedError): ErrorCode => (typeof e === 'string' ? e : e.code);

/** An example error body for a code. */
export function errorExample(error: DocumentedError): Record<string, unknown> {
  const code = codeOf(error);
  return {
    status: 'FAILED',
    code,
    message: MESSAGES[code] ?? code.toLowerCase().replace(/_/g, ' '),
    requestId: '7b8e0c2a-3f7d-4c1e-9a8b-2d7e5f1a0c33',
    ...EXAMPLE_EXTRA[code],
    ...(typeof error === 'string' ? {} : error.extra),
  };
}
