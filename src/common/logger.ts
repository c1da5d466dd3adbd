import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/**
 * Structured JSON logs. The service never passes a secret, OTP or token to the logger; the
 * redaction list is a second line of defence should a future log call pass a whole body.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: safeError },
      base: { service: 'totp-device-registration' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          '*.secret',
          '*.otp',
          '*.client_secret',
          '*.clientSecret',
          '*.access_token',
          '*.password',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Nest's own messages (bootstrap, lifecycle) through the same JSON logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, stack?: string, context?: string): void {
    this.logger.error({ context, stack }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');

// Fields of an error that never carry row data or parameters. Postgres puts row contents in
// `detail` ("Failing row contains (…)", "Key (…)=(…) already exists") and `where`; TypeORM adds the
// query and its parameters. Those are never logged (issue 10).
const SAFE_ERROR_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'severity', 'routine', 'errno', 'syscall', 'dependency'];

/** The error as logged: type, message, stack and a few structural fields, with its causes. */
function safeError(error: unknown, depth = 0): Record<string, unknown> | undefined {
  if (error === undefined || error === null) return undefined;
  if (!(error instanceof Error)) return { type: typeof error, message: typeof error === 'string' ? error : JSON.stringify(error) };
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const field of SAFE_ERROR_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  if (depth < 4 && error.cause !== undefined) out.cause = safeError(error.cause, depth + 1);
  return out;
}
