/**
 * Which POSTs the client sends with an Idempotency-Key of its own (the same key on every retry):
 *
 * - `'where-replay-matters'` (the default): the requests that create or spend something the caller
 *   cannot get back by asking again (REPLAY_MATTERS below).
 * - `'all'`: every POST.
 * - `'none'`: none (a key the caller sets itself is always kept).
 *
 * The service lets a client start IDEMPOTENCY_KEYS_PER_CLIENT_PER_HOUR new keys an hour and refuses
 * more with 429 RATE_LIMITED for up to an hour, so a key on every OTP verification would spend the
 * quota of a busy integration.
 */
export type IdempotencyKeys = 'where-replay-matters' | 'all' | 'none';

/**
 * The service answers the first request's answer again to a retry with the same key. Without one,
 * a retry of these, after a first try that ran although it answered 503, would give a wrong answer
 * or lose something. Not here: OTP verification and resync (a retry finds the code already used
 * and answers INVALID_OTP; the user types the next code), approve and deny (a retry answers
 * LOGIN_REQUEST_NOT_PENDING with the loginStatus the first set).
 */
const REPLAY_MATTERS: RegExp[] = [
  /\/v1\/users\/[^/]+\/devices$/, // create: a second registration, a second secret
  /\/v1\/users\/[^/]+\/devices\/import$/, // import: DEVICE_ALREADY_IMPORTED instead of the device
  /\/v1\/users\/[^/]+\/devices\/[^/]+\/activate$/, // activate: ALREADY_ACTIVE, and the recovery codes shown once are lost
  /\/v1\/users\/[^/]+\/recovery-codes$/, // regenerate: a second set voids the first, never seen
  /\/v1\/users\/[^/]+\/recovery-codes\/verify$/, // a recovery code works once: INVALID_RECOVERY_CODE, a code lost
  /\/v1\/users\/[^/]+\/login-requests$/, // a second login request, a second QR code
  /\/v1\/users\/[^/]+\/login-requests\/[^/]+\/redeem$/, // redeem: ALREADY_REDEEMED, the session lost
];

/** Whether the client adds an Idempotency-Key to `request` under `mode`. */
export function wantsIdempotencyKey(request: Request, mode: IdempotencyKeys): boolean {
  if (request.method !== 'POST' || mode === 'none' || request.headers.has('idempotency-key')) return false;
  const path = new URL(request.url).pathname;
  if (!path.includes('/v1/')) return false;
  return mode === 'all' || REPLAY_MATTERS.some((pattern) => pattern.test(path));
}
