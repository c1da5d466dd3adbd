/**
 * Tells a Postgres outage (which answers 503) from a bug (500). Connection-level failures only:
 * a constraint violation or a syntax error is never an outage. Redis errors are classified where
 * the Redis client lives (pending/redis-pending.store.ts).
 */
export function isPostgresOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      // SQLSTATE class 08 (connection exception), 57P0x (shutdown), 53300 (too many connections), 57014 (statement timeout),
      // 40P01 / 40001 (deadlock, serialization failure: transient, a retry succeeds — 503 with Retry-After, not 500)
      if (code.startsWith('08') || /^57P0[1-4]$/.test(code) || ['53300', '57014', '40P01', '40001'].includes(code) || NET_CODES.has(code)) {
        return true;
      }
    }
    if (PG_OUTAGE_MESSAGES.some((m) => e instanceof Error && e.message.includes(m))) return true;
    const next: unknown = (e as { driverError?: unknown }).driverError ?? e.cause;
    e = next;
  }
  return false;
}

const PG_OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection is not established',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'the database system is',
  'terminating connection',
  'Driver not Connected',
];
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

