import type { PendingRegistration } from '../pending/pending.store.js';
import type { HashAlgorithm } from '../config/config.js';

/** An active TOTP device. Pending registrations never come here (they live in the pending store). */
export interface Device {
  /** Same as the registration's authId. */
  id: string;
  clientId: string;
  userId: string;
  deviceType: 'TOTP';
  deviceName: string;
  /** AES-256-GCM sealed secret (totp/secret-box.ts); the key id is kept beside it for rotation. */
  sealedSecret: string;
  keyId: string;
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: number;
  /** Accepted drift in steps either side, as the client's policy had it; null: the service's TOTP_WINDOW. */
  window: number | null;
  /** The device's clock offset in time steps, as its last accepted code showed it (the window's centre). */
  drift: number;
  status: 'ACTIVE';
  /** The last accepted time step: a code at or before it is a replay (RFC 6238 §5.2). */
  lastUsedStep: number | null;
  failureCount: number;
  lockedUntil: Date | null;
  createdAt: Date;
  activatedAt: Date;
  lastUsedAt: Date | null;
}

/** The row as Postgres returns it (bigint as text). */
export interface DeviceRow {
  id: string;
  client_id: string;
  user_id: string;
  device_type: 'TOTP';
  device_name: string;
  sealed_secret: string;
  key_id: string;
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: number;
  totp_window: number | null;
  drift: number;
  status: 'ACTIVE';
  last_used_step: string | null;
  failure_count: number;
  locked_until: Date | null;
  created_at: Date;
  activated_at: Date;
  last_used_at: Date | null;
}

export const DEVICE_COLUMNS = `id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, totp_window, drift, status,
  last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at`;

/** The one mapper of the devices table. */
export const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  deviceType: r.device_type,
  deviceName: r.device_name,
  sealedSecret: r.sealed_secret,
  keyId: r.key_id,
  algorithm: r.algorithm,
  digits: r.digits,
  period: r.period,
  window: r.totp_window,
  drift: r.drift,
  status: r.status,
  lastUsedStep: r.last_used_step === null ? null : Number(r.last_used_step),
  failureCount: r.failure_count,
  lockedUntil: r.locked_until,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  lastUsedAt: r.last_used_at,
});

/** The device a registration becomes; the activating code's step is spent (it cannot verify a login). */
export const activatedDevice = (r: PendingRegistration, keyId: string, step: number, now: Date): Device => ({
  id: r.authId,
  clientId: r.clientId,
  userId: r.userId,
  deviceType: r.deviceType,
  deviceName: r.deviceName,
  sealedSecret: r.sealedSecret,
  keyId,
  algorithm: r.algorithm,
  digits: r.digits,
  period: r.period,
  window: r.window ?? null,
  drift: 0,
  status: 'ACTIVE',
  lastUsedStep: step,
  failureCount: 0,
  lockedUntil: null,
  createdAt: new Date(r.createdAt),
  activatedAt: now,
  lastUsedAt: null,
});
