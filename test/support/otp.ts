import { fromBase32, totpAt } from '../../src/totp/totp.js';

const policy = { algorithm: 'SHA1' as const, digits: 6 as const, period: 30 };

/**
 * The code an authenticator app would show for this secret, `offsetSeconds` from `nowMs` (the
 * service's clock: TestApp.clock; real time for a service running as a process).
 */
export const codeFor = (secret: string, offsetSeconds = 0, nowMs = Date.now()): string => totpAt(fromBase32(secret), policy, nowMs / 1000 + offsetSeconds);

/** A code that is certainly wrong at `nowMs` (differs from every code in the ±2 window). */
export function wrongCodeFor(secret: string, nowMs = Date.now()): string {
  const taken = new Set([-60, -30, 0, 30, 60].map((o) => codeFor(secret, o, nowMs)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!taken.has(candidate)) return candidate;
  }
}

/** Waits until we are at least `margin` seconds away from a 30-s step boundary, so drift tests cannot straddle one. */
export async function awayFromStepBoundary(margin = 3): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into < margin) await sleep((margin - into) * 1000 + 50);
  else if (into > 30 - margin) await sleep((30 - into + margin) * 1000 + 50);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
