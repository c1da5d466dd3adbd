import { DependencyUnavailableError } from '../common/domain-error.js';

/**
 * A statement that failed for a reason of its own (a constraint, bad data, a bug): code, constraint
 * and table are kept for the repositories to decide on; Postgres's `detail`, `where` and the
 * parameters are dropped here, at the boundary, so row data never travels further (into a log line).
 */
export class DatabaseError extends Error {
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;

  constructor(source: { message: string; code?: unknown; constraint?: unknown; table?: unknown }) {
    super(source.message);
    this.name = 'DatabaseError';
    this.code = typeof source.code === 'string' ? source.code : undefined;
    this.constraint = typeof source.constraint === 'string' ? source.constraint : undefined;
    this.table = typeof source.table === 'string' ? source.table : undefined;
  }
}

// SQLSTATE class 08 (connection), 57P0x (shutdown), 53300 (too many connections), 57014 (cancelled:
// our own deadline), 40P01 / 40001 (deadlock, serialization failure: a retry succeeds), 42P05 / 26000
// (a prepared statement a pooler's server connection does not have, or already has), 55000 with
// PgBouncer's wording, and PgBouncer's own refusals: outages, answered 503 with Retry-After.
const OUTAGE_CODES = new Set(['53300', '57014', '40P01', '40001', '42P05', '26000']);
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is not established',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'the database system is',
  'terminating connection',
  'no more connections allowed',
  'server login has been failing',
  'pgbouncer cannot connect to server',
  'server conn crashed',
];

function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || /^57P0[1-4]$/.test(code) || OUTAGE_CODES.has(code) || NET_CODES.has(code))) return true;
  return error instanceof Error && OUTAGE_MESSAGES.some((m) => error.message.includes(m));
}

/** What a failed statement becomes: an outage (503) or a DatabaseError without row data. */
export function classify(error: unknown): Error {
  if (error instanceof DependencyUnavailableError || error instanceof DatabaseError) return error;
  const safe = error instanceof Error ? new DatabaseError(error) : new DatabaseError({ message: String(error) });
  return isOutage(error) ? new DependencyUnavailableError('postgres', safe) : safe;
}

/** deadlock_detected, serialization_failure: statements of two replicas met on rows in opposite orders. */
export const isLockConflict = (error: unknown): boolean => {
  const cause = error instanceof DependencyUnavailableError ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === '40P01' || code === '40001';
};

/** SQLSTATE classes 22 (data exception) and 23 (constraint violation): one row's contents are refused. */
export const isRowError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
};

/** The constraint a unique violation names, if it is one. */
export const uniqueViolation = (error: unknown): string | undefined =>
  error instanceof DatabaseError && error.code === '23505' ? error.constraint : undefined;

/** SQLSTATE (or the network error code) of a failed statement; `timeout` for our own deadline (57014). */
export function errorTypeOf(failure: Error): string {
  const cause = failure instanceof DependencyUnavailableError ? failure.cause : failure;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === '57014') return 'timeout';
  return typeof code === 'string' ? code : failure instanceof DependencyUnavailableError ? 'unavailable' : 'error';
}
