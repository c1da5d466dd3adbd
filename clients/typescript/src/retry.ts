import { retryAfterSeconds } from './errors.js';

export interface RetryOptions {
  /** Retries after a 503 or 429 (default 3); 0 turns retrying off. */
  retries: number;
  /** A Retry-After longer than this is not waited for: the answer is returned (default 30 s). */
  maxDelayMs: number;
  /** Waits; replaceable in tests. */
  sleep: (ms: number, signal?: AbortSignal | null) => Promise<void>;
}

const RETRIED = new Set([429, 503]);

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
 * Sends `request` (a fresh copy each time), and again after a 503 or 429 as long as retries are
 * left and the wait is acceptable. Both answers mean that the service did not do the work: a
 * 429 is refused before anything happens, and the service answers 503 when a dependency failed
 * (see the README of the client about retried POSTs).
 */
export async function sendWithRetries(request: Request, send: (request: Request) => Promise<Response>, options: RetryOptions): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await send(request.clone());
    if (!RETRIED.has(response.status) || attempt >= options.retries) return response;
    const delay = retryDelayMs(response, attempt);
    if (delay > options.maxDelayMs) return response;
    await response.body?.cancel();
    await options.sleep(delay, request.signal);
  }
}
