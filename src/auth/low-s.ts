/**
 * ECDSA signatures have two valid forms, (r, s) and (r, n - s). Only the low one (s ≤ n/2) is
 * issued and accepted, so a token has exactly one valid encoding (a twin with the other s would
 * otherwise pass as a different string: another cache entry, another log identity).
 */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const HALF_ORDER = P256_ORDER >> 1n;

const sOf = (signature: Uint8Array): bigint => BigInt(`0x${Buffer.from(signature.subarray(32, 64)).toString('hex')}`);

/** A P-256 signature in IEEE P1363 form (r || s, 64 bytes) with s in the lower half. */
export function toLowS(signature: Uint8Array): Buffer {
  const s = sOf(signature);
  if (s <= HALF_ORDER) return Buffer.from(signature);
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([signature.subarray(0, 32), low]);
}

export const isLowS = (signature: Uint8Array): boolean => signature.length === 64 && sOf(signature) <= HALF_ORDER;
