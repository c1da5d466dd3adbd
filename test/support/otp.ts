import { fromBase32, totpAt } from '../../src/totp/totp.js';

const policy = { algorithm: 'SHA1' as const, digits: 6 as const, period: 30 };

/**
 * The code an authenticator app would show for this secret, `offsetSeconds` from `nowMs` (the
 * service's clock: TestApp.clock; real time for a service running as a process).
 */
export const codeFor = (secret: string, offsetSeconds = 0, nowMs = Date.now()): string =>
  totpAt(fromBase32(secret), policy, nowMs / 1000 + offsetSeconds);

/** A code that is certainly wrong at `nowMs` (differs from every code in the ±2 window). */
export function wrongCodeFor(secret: string, nowMs = Date.now()): string {
  const taken = new Set([-60, -30, 0, 30, 60].map((o) => codeFor(secret, o, nowMs)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!taken.has(candidate)) return candidate;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
