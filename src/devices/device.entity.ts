import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { HashAlgorithm } from '../config/config.js';

/** An active TOTP device. Pending registrations never come here (they live in the pending store). */
@Entity({ name: 'devices' })
export class DeviceEntity {
  /** Same as the registration's authId. */
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'client_id', type: 'uuid' })
  clientId: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'device_type', type: 'text' })
  deviceType: 'TOTP';

  @Column({ name: 'device_name', type: 'text' })
  deviceName: string;

  /** AES-256-GCM sealed secret (totp/secret-box.ts); the key id is kept beside it for rotation. */
  @Column({ name: 'sealed_secret', type: 'text' })
  sealedSecret: string;

  @Column({ name: 'key_id', type: 'text' })
  keyId: string;

  @Column({ type: 'text' })
  algorithm: HashAlgorithm;

  @Column({ type: 'smallint' })
  digits: 6 | 8;

  @Column({ type: 'smallint' })
  period: number;

  @Column({ type: 'text' })
  status: 'ACTIVE';

  /** The last accepted time step: a code at or before it is a replay (RFC 6238 §5.2). */
  @Column({ name: 'last_used_step', type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  lastUsedStep: number | null;

  @Column({ name: 'failure_count', type: 'integer' })
  failureCount: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'activated_at', type: 'timestamptz' })
  activatedAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
