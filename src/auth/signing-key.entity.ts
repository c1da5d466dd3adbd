import { Column, Entity, PrimaryColumn } from 'typeorm';

/** ES256 signing keys shared by every replica; the private half is sealed with ENCRYPTION_KEY. */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  kid: string;

  @Column({ name: 'sealed_private_key', type: 'text' })
  sealedPrivateKey: string;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
