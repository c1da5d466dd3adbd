import { createHmac } from 'node:crypto';
import { validationError } from '../common/domain-error.js';

/**
 * The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): a Structured Field
 * String ("…", RFC 8941 §3.3.3); the bare value is taken too, as most clients send it. 1-255
 * printable ASCII characters. Undefined when the header is absent.
 */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header.join(',') : header).trim();
  const quoted = /^"((?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(raw);
  const key = quoted === null ? raw : (quoted[1] ?? '').replace(/\\(["\\])/g, '$1');
  if (key.length < 1 || key.length > 255 || !/^[\x20-\x7e]+$/.test(key) || (quoted === null && /[",]/.test(key))) {
    throw validationError([
      { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 printable ASCII characters (a UUID is a good choice)' },
    ]);
  }
  return key;
}

/**
 * What makes two requests "the same": method, path with query, and the parsed body. Keyed (HMAC
 * with a key derived from ENCRYPTION_KEY): a body may hold a code or an OTP, and the fingerprint
 * is stored in clear, so it must not be a plain hash one could test guesses against.
 */
export const requestFingerprint = (hmacKey: Buffer, method: string, url: string, body: unknown): string =>
  createHmac('sha256', hmacKey)
    .update(`${method} ${url}\n`)
    .update(JSON.stringify(body ?? null))
    .digest('base64url');
