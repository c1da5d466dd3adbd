import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

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
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  /** Internal order and pagination cursor. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'client_id', type: 'uuid' })
  clientId: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'device_id', type: 'uuid', nullable: true })
  deviceId: string | null;

  @Column({ type: 'text' })
  type: AuditEventType;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail: Record<string, string | number> | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
