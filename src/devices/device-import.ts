import { randomUUID } from 'node:crypto';
import type { ClientPolicy } from '../auth/client-policy.js';
import type { FieldError } from '../common/domain-error.js';
import { isUserId } from '../common/validation.js';
import type { HashAlgorithm } from '../config/config.js';
import { fromBase32 } from '../totp/totp.js';
import type { DeviceSecrets } from './device-secrets.js';
import type { Device } from './device.js';
import { deviceNameProblem, normalizeDeviceName } from './device-name.js';

/** One authenticator to import, as the API (POST …/devices/import) or a line of the bulk file gives it. */
export interface ImportInput {
  userId?: unknown;
  deviceName?: unknown;
  secret?: unknown;
  algorithm?: unknown;
  digits?: unknown;
  period?: unknown;
  externalId?: unknown;
}

export interface ImportCandidate {
  device: Device;
  externalId: string | null;
  /** The secret itself, to check an `otp` against; never stored or echoed. */
  secret: Buffer;
}

const ALGORITHMS: readonly HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
// RFC 4226 §4: at least 128 bits of shared secret (160 recommended); 64 bytes is SHA-512's block.
const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 64;

/**
 * Checks an authenticator to import and turns it into the device it becomes (ACTIVE, sealed like
 * ours, keeping the client's window). Parameters not given are the client's policy's. The problems
 * name each field, as a VALIDATION_FAILED answer does.
 */
export function importCandidate(
  input: ImportInput,
  context: { clientId: string; policy: ClientPolicy; secrets: DeviceSecrets; now: Date },
): { candidate: ImportCandidate } | { problems: FieldError[] } {
  const problems: FieldError[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const userId = typeof input.userId === 'string' && isUserId(input.userId) ? input.userId : undefined;
  if (userId === undefined) problem('userId', 'userId must be 1-128 characters of A-Z a-z 0-9 . _ @ + -, and not "." or ".."');
  const deviceName = typeof input.deviceName === 'string' ? normalizeDeviceName(input.deviceName) : '';
  const nameProblem = typeof input.deviceName === 'string' ? deviceNameProblem(deviceName) : 'deviceName must be a string';
  if (nameProblem !== undefined) problem('deviceName', nameProblem);
  const secret = readSecret(input.secret);
  if (secret === undefined) problem('secret', `secret must be base32 (RFC 4648) of ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes`);
  const algorithm = input.algorithm === undefined ? context.policy.algorithm : ALGORITHMS.find((a) => a === input.algorithm);
  if (algorithm === undefined) problem('algorithm', 'algorithm must be SHA1, SHA256 or SHA512');
  const digits = input.digits === undefined ? context.policy.digits : input.digits === 6 || input.digits === 8 ? input.digits : undefined;
  if (digits === undefined) problem('digits', 'digits must be 6 or 8');
  const period = input.period === undefined ? context.policy.period : Number.isInteger(input.period) ? (input.period as number) : undefined;
  if (period === undefined || period < 15 || period > 120) problem('period', 'period must be an integer of 15-120 seconds');
  const externalId = input.externalId === undefined ? null : input.externalId;
  if (externalId !== null && (typeof externalId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(externalId))) {
    problem('externalId', 'externalId must be 1-128 printable ASCII characters without spaces');
  }
  if (
    problems.length > 0 ||
    userId === undefined ||
    secret === undefined ||
    algorithm === undefined ||
    digits === undefined ||
    period === undefined
  ) {
    return { problems };
  }
  const id = randomUUID();
  const sealedSecret = context.secrets.seal(context.clientId, id, secret);
  const { now } = context;
  const device: Device = {
    id,
    clientId: context.clientId,
    userId,
    deviceType: 'TOTP',
    deviceName,
    sealedSecret,
    keyId: context.secrets.keyIdOf(sealedSecret),
    algorithm,
    digits,
    period,
    window: context.policy.window,
    drift: 0,
    status: 'ACTIVE',
    lastUsedStep: null,
    failureCount: 0,
    lockedUntil: null,
    createdAt: now,
    activatedAt: now,
    lastUsedAt: null,
  };
  return { candidate: { device, externalId: externalId as string | null, secret } };
}

function readSecret(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(text)) return undefined;
  try {
    const bytes = Buffer.from(fromBase32(text));
    return bytes.length >= MIN_SECRET_BYTES && bytes.length <= MAX_SECRET_BYTES ? bytes : undefined;
  } catch {
    return undefined;
  }
}
