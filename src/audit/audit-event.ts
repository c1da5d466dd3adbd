export const AUDIT_EVENT_TYPES = [
  'REGISTRATION_CREATED',
  'DEVICE_ACTIVATED',
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
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

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
