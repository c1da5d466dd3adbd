import type { LoggerService } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { type DestinationStream, pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { AppConfig, LogLevel } from '../config/config.js';

export interface LogOptions {
  /** LOG_FORMAT: auto is readable on a terminal outside production, JSON otherwise. */
  format?: AppConfig['logFormat'];
  nodeEnv?: AppConfig['nodeEnv'];
  /** Tracing is on: each line logged inside a traced request carries its trace_id and span_id. */
  traced?: boolean;
}

/** Readable one-line logs on stdout (development and embedded mode on a terminal). */
export function isPretty(options: LogOptions, destination?: DestinationStream): boolean {
  if (destination !== undefined || options.format === 'json') return false;
  return options.format === 'pretty' || (options.nodeEnv !== 'production' && process.stdout.isTTY === true);
}

/** The active span's ids, for log lines (W3C trace context: what a trace backend links a line by). */
function traceIds(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Structured JSON logs (or, for people at a terminal, pino-pretty's one-liners). The service never
 * passes a secret, OTP or token to the logger; the redaction list is a second line of defence
 * should a future log call pass a whole body.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, options: LogOptions = {}): Logger {
  const readable = isPretty(options, destination);
  return pino(
    {
      level,
      ...(options.traced === true && { mixin: traceIds }),
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
    readable
      ? pretty({
          sync: true,
          colorize: process.stdout.isTTY === true,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service',
        })
      : destination,
  );
}

// Nest's start-up chatter (a line per module and per route): debug, so the banner stays in view.
const CHATTY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Nest's own messages (bootstrap, lifecycle) through the same logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    if (context !== undefined && CHATTY.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
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
