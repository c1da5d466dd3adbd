import { constantTimeEqual, counterToBytes, dynamicTruncate, truncateDigits } from '@otplib/core';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { createGuardrails, generateSync, ScureBase32Plugin } from 'otplib';
import { randomBytesPooled } from '../common/random.js';
import type { HashAlgorithm } from '../config/config.js';

/** Pure TOTP code (RFC 6238) over otplib, with Node's OpenSSL HMAC. */
export interface TotpPolicy {
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: number;
}

const crypto = new NodeCryptoPlugin();
const base32 = new ScureBase32Plugin();
// RFC 6238 Appendix B uses 20/32/64-byte seeds; new secrets are always the full HMAC output size.
const MIN_SECRET_BYTES = 16;
const guardrails = createGuardrails({ MIN_SECRET_BYTES });

/** RFC 4226 §4 R6 and RFC 6238 §5.1: the shared key is as long as the HMAC output. */
export function secretLength(algorithm: HashAlgorithm): number {
  switch (algorithm) {
    case 'SHA1':
      return 20;
    case 'SHA256':
      return 32;
    case 'SHA512':
      return 64;
  }
}

/** A new secret from the CSPRNG, as raw bytes. */
export function newSecret(algorithm: HashAlgorithm): Buffer {
  return randomBytesPooled(secretLength(algorithm));
}

/** RFC 4648 Base32 without padding, as authenticator apps expect it. */
export function toBase32(secret: Uint8Array): string {
  return base32.encode(secret, { padding: false });
}

export function fromBase32(secret: string): Uint8Array {
  return base32.decode(secret);
}

/**
 * Key Uri Format: otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=…&digits=…&period=…
 * Issuer and account are percent-encoded each on its own, so a ':' inside either cannot move the
 * separator, and spaces become %20 (not '+', which some apps show literally).
 */
export function registrationUri(issuer: string, account: string, secret: Uint8Array, policy: TotpPolicy): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${toBase32(secret)}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${policy.algorithm}`,
    `digits=${policy.digits}`,
    `period=${policy.period}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

const otplibAlgorithm = (a: HashAlgorithm): 'sha1' | 'sha256' | 'sha512' => (a === 'SHA1' ? 'sha1' : a === 'SHA256' ? 'sha256' : 'sha512');

/** otplib's options for a secret under a policy at a time. */
const options = (secret: Uint8Array, policy: TotpPolicy, epochSeconds: number) => ({
  secret,
  crypto,
  guardrails,
  algorithm: otplibAlgorithm(policy.algorithm),
  digits: policy.digits,
  period: policy.period,
  epoch: epochSeconds,
});

/** The code for a given time (seconds since the epoch). */
export function totpAt(secret: Uint8Array, policy: TotpPolicy, epochSeconds: number): string {
  return generateSync(options(secret, policy, epochSeconds));
}

/**
 * Checks a code against the current step ± `window` steps. Returns the matched time step, which
 * the caller stores so that the same or an earlier step is never accepted again (RFC 6238 §5.2).
 *
 * The same answer as otplib's verifySync (a test compares them on random secrets, times and codes),
 * built from otplib's own RFC 4226 pieces, with the policy checked once here instead of on every
 * candidate step: verifySync was the largest single item of a verification in the profile, this
 * costs about a fifth of it (bench/README.md).
 */
/** How far (in steps) a device's drift may go: 10 minutes either way (RFC 6238 §6 leaves it to the verifier). */
export const driftBound = (period: number): number => Math.ceil(600 / period);

export function matchTotp(secret: Uint8Array, policy: TotpPolicy, token: string, window: number, epochSeconds: number): number | undefined {
  if (token.length !== policy.digits || !/^\d+$/.test(token) || secret.length < MIN_SECRET_BYTES) return undefined;
  const current = Math.floor(epochSeconds / policy.period);
  const algorithm = otplibAlgorithm(policy.algorithm);
  let matched: number | undefined;
  // Every candidate is computed and compared in constant time, whichever matches. Should two steps
  // give the same code, the later one is returned, so the code cannot be accepted a second time.
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const code = truncateDigits(dynamicTruncate(crypto.hmac(algorithm, secret, counterToBytes(step))), policy.digits);
    if (constantTimeEqual(code, token)) matched = step;
  }
  return matched;
}
