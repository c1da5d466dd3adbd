import { retryAfterSeconds } from './errors.js';

export interface RetryOptions {
  /** Retries after a 503 or 429 (default 3); 0 turns retrying off. */
  retries: number;
  /** A Retry-After longer than this is not waited for: the answer is returned (default 30 s). */
  maxDelayMs: number;
  /**
   * Also retry a POST, PATCH or DELETE after a 503 (default true). The service answers 503 when a
   * dependency failed; mostly nothing happened, but a statement that ran past its deadline and
   * did not stop on cancel may still have committed. A POST whose repetition would lose something
   * is sent with an Idempotency-Key (the same one on every retry; see idempotency.ts), so it gets
   * its first answer back rather than running twice; the others (OTP verification, approve, deny)
   * are refused harmlessly when they ran already; PATCH and DELETE are idempotent.
   */
  retryUnsafe: boolean;
  /** Waits; replaceable in tests. */
  sleep: (ms: number, signal?: AbortSignal | null) => Promise<void>;
}

/** Which answers are worth sending again: decided from a copy, so the caller still gets the body. */
export type Retryable = (response: Response) => Promise<boolean>;

/**
 * The API: a 503, a 429 RATE_LIMITED or a 409 IDEMPOTENCY_KEY_IN_USE (the first try with the key
 * still runs), with Retry-After. Not TOO_MANY_ATTEMPTS (the registration is gone) or DEVICE_LOCKED.
 */
export const retryableApiAnswer: Retryable = async (response) => {
  if (response.status === 503) return true;
  if ((response.status !== 429 && response.status !== 409) || !response.headers.has('retry-after')) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { code?: unknown } | undefined;
  return body?.code === (response.status === 429 ? 'RATE_LIMITED' : 'IDEMPOTENCY_KEY_IN_USE');
};

/** The token endpoint: a 503, or a 429 whose Retry-After is short enough to wait for. */
export const retryableTokenAnswer: Retryable = (response) =>
  Promise.resolve(response.status === 503 || (response.status === 429 && response.headers.has('retry-after')));

export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * How long to wait before retry `attempt` (0-based): what Retry-After says, plus up to 10 %
 * jitter so that callers throttled together do not come back together; without the header,
 * exponential backoff from 200 ms.
 */
export function retryDelayMs(response: Response, attempt: number, random = Math.random): number {
  const seconds = retryAfterSeconds(response.headers);
  const base = seconds !== undefined ? seconds * 1000 : 200 * 2 ** attempt;
  return Math.ceil(base * (1 + random() * 0.1));
}

/**
 * Sends `request` (a fresh copy each time), and again after a retryable answer as long as retries
 * are left and the wait is acceptable.
 */
export async function sendWithRetries(
  request: Request,
  send: (request: Request) => Promise<Response>,
  options: RetryOptions,
  retryable: Retryable,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await send(request.clone());
    if (attempt >= options.retries || !(await retryable(response))) return response;
    if (request.method !== 'GET' && response.status === 503 && !options.retryUnsafe) return response;
    const delay = retryDelayMs(response, attempt);
    if (delay > options.maxDelayMs) return response;
    await response.body?.cancel();
    await options.sleep(delay, request.signal);
  }
}
