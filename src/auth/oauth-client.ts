import type { PolicyOverrides } from './client-policy.js';

/** An API client (a tenant's backend) as stored. */
export interface OAuthClient {
  id: string;
  name: string;
  /** SHA-256 of the 256-bit random secret (hex). A fast hash is enough for a high-entropy secret. */
  secretHash: string;
  scopes: string[];
  disabled: boolean;
  createdAt: Date;
  secretRotatedAt: Date | null;
  /** Tokens carry it (claim `gen`); raising it revokes every token issued before. */
  tokenGeneration: number;
  /** The client's TOTP policy overrides (API.md §12); the rest is the service's configuration. */
  policy: PolicyOverrides;
}

/** An ES256 signing key shared by every replica; the private half is sealed with ENCRYPTION_KEY. */
export interface SigningKey {
  kid: string;
  sealedPrivateKey: string;
  publicJwk: Record<string, string>;
  createdAt: Date;
}
