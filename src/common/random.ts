import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * CSPRNG bytes, drawn from a pool that one randomFillSync call fills 4 KiB at a time (what Node's
 * own randomUUID does): the cost of randomBytes is per call, not per byte, and a call per secret and
 * per IV showed in the create profile (bench/README.md). Each byte is
 * handed out once, copied, and wiped from the pool.
 */
export function randomBytesPooled(size: number): Buffer {
  if (size > 256) return randomBytes(size);
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const out = Buffer.alloc(size);
  pool.copy(out, 0, offset, offset + size);
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
