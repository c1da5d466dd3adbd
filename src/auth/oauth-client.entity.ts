import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'oauth_clients' })
export class OAuthClientEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** SHA-256 of the 256-bit random secret (hex). A fast hash is enough for a high-entropy secret. */
  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'secret_rotated_at', type: 'timestamptz', nullable: true })
  secretRotatedAt: Date | null;

  /** Tokens carry it (claim `gen`); raising it revokes every token issued before. */
  @Column({ name: 'token_generation', type: 'integer', default: 0 })
  tokenGeneration: number;
}
