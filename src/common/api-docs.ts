import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type ErrorCode, statusOf } from './error-codes.js';

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'The request is not valid',
  INVALID_OTP: 'The OTP is not valid',
  UNAUTHORIZED: 'An access token is required',
  INVALID_TOKEN: 'The access token has expired',
  INSUFFICIENT_SCOPE: 'This request needs the scope devices:write',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable, please retry shortly',
  RATE_LIMITED: 'Too many requests for this client; slow down',
};

const HEADER_NOTES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'WWW-Authenticate: Bearer realm="…"',
  INVALID_TOKEN: 'WWW-Authenticate: Bearer realm="…", error="invalid_token"',
  INSUFFICIENT_SCOPE: 'WWW-Authenticate: Bearer realm="…", error="insufficient_scope", scope="…"',
  SERVICE_UNAVAILABLE: 'Retry-After',
  RATE_LIMITED: 'Retry-After',
  DEVICE_LOCKED: 'Retry-After',
  ACTIVATION_IN_PROGRESS: 'Retry-After',
};

function example(code: ErrorCode): Record<string, unknown> {
  const body: Record<string, unknown> = {
    status: 'FAILED',
    code,
    message: MESSAGES[code] ?? code.toLowerCase().replace(/_/g, ' '),
    requestId: '7b8e0c2a-3f7d-4c1e-9a8b-2d7e5f1a0c33',
  };
  if (code === 'VALIDATION_FAILED') body.errors = [{ field: 'otp', message: 'otp must be 6 to 8 digits' }];
  if (code === 'INVALID_OTP') body.remainingAttempts = 4;
  if (code === 'DEVICE_LOCKED') body.lockedUntil = '2026-11-22T10:15:00.000Z';
  return body;
}

/** Documents every error code a route can answer, grouped by status, with an example body each. */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.map((c) => (HEADER_NOTES[c] === undefined ? c : `${c} (${HEADER_NOTES[c]})`)).join(' | '),
        examples: Object.fromEntries(group.map((c) => [c, { summary: c, value: example(c) }])),
      }),
    ),
  );
}
