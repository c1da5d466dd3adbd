export const AUDIT_EVENT_TYPES = [
  'REGISTRATION_CREATED',
  'DEVICE_ACTIVATED',
  'DEVICE_IMPORTED',
  'ACTIVATION_FAILED',
  'REGISTRATION_EXHAUSTED',
  'REGISTRATION_EXPIRED',
  'REGISTRATION_DELETED',
  'DEVICE_RENAMED',
  'DEVICE_DELETED',
  'OTP_VERIFIED',
  'VERIFICATION_FAILED',
  'REPLAY_REFUSED',
  'DEVICE_LOCKED',
  'DEVICE_RESYNCED',
  'RECOVERY_CODES_ISSUED',
  'RECOVERY_CODE_USED',
  'RECOVERY_CODE_FAILED',
  'USER_LOCKED',
  'USER_ERASED',
  'LOGIN_REQUESTED',
  'LOGIN_APPROVED',
  'LOGIN_DENIED',
  'LOGIN_FAILED',
  'LOGIN_EXPIRED',
  'LOGIN_REDEEMED',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** The facts each event type records in `detail` (never a secret or a code), and their JSON types. */
export const AUDIT_EVENT_DETAILS: Record<AuditEventType, Record<string, 'string' | 'uuid' | 'date-time' | 'integer'>> = {
  REGISTRATION_CREATED: { deviceName: 'string', expiresAt: 'date-time' },
  DEVICE_ACTIVATED: { deviceName: 'string' },
  DEVICE_IMPORTED: { deviceName: 'string', externalId: 'string' }, // externalId when the import gave one
  ACTIVATION_FAILED: {},
  REGISTRATION_EXHAUSTED: {},
  REGISTRATION_EXPIRED: {},
  REGISTRATION_DELETED: {},
  DEVICE_RENAMED: { deviceName: 'string' },
  DEVICE_DELETED: { reason: 'string' }, // reason only when the service deleted it (an activation that lost its registration)
  OTP_VERIFIED: {},
  VERIFICATION_FAILED: {},
  REPLAY_REFUSED: {},
  DEVICE_LOCKED: { lockedUntil: 'date-time' },
  DEVICE_RESYNCED: {},
  RECOVERY_CODES_ISSUED: { count: 'integer' },
  RECOVERY_CODE_USED: { remainingCodes: 'integer' },
  RECOVERY_CODE_FAILED: { reason: 'string' }, // reason only for a code used before (counted towards the lock as a wrong code is)
  USER_LOCKED: { lockedUntil: 'date-time' },
  USER_ERASED: { devices: 'integer', registrations: 'integer' },
  // deviceId: the device the request was bound to (LOGIN_REQUESTED) or that decided it.
  LOGIN_REQUESTED: { loginRequestId: 'uuid', expiresAt: 'date-time' },
  LOGIN_APPROVED: { loginRequestId: 'uuid' },
  LOGIN_DENIED: { loginRequestId: 'uuid' },
  LOGIN_FAILED: { loginRequestId: 'uuid', failures: 'integer' },
  LOGIN_EXPIRED: { loginRequestId: 'uuid' },
  LOGIN_REDEEMED: { loginRequestId: 'uuid' },
};

/** A security event. Never holds a secret or an OTP. */
export interface AuditEvent {
  /** Internal order and pagination cursor (bigint as text). */
  seq: string;
  eventId: string;
  clientId: string;
  userId: string;
  deviceId: string | null;
  type: AuditEventType;
  requestId: string | null;
  /** Non-secret facts only (names, counts, times). */
  detail: Record<string, string | number> | null;
  createdAt: Date;
}
