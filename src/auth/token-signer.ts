import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, UUID_V4 } from '../config/config.js';
import { SecretBox } from '../totp/secret-box.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { isLowS, toLowS } from './low-s.js';
import { SigningKeysRepository } from './signing-keys.repository.js';

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  /** The client's token generation at issue (absent in tokens issued before it existed: 0). */
  gen: number;
}

export class InvalidTokenError extends Error {}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
// Leeway for clock skew between replicas when checking iat/nbf (RFC 7519 §4.1.4 allows "some small leeway").
const LEEWAY_SECONDS = 30;
const RELOAD_INTERVAL_MS = 5000;
// Callers reuse a token for its whole life, so a verified token is remembered (until it expires)
// instead of checking its ECDSA signature on every request. Bounded: the oldest entries go first.
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * ES256 access tokens (RFC 9068 profile) signed with a key kept, sealed, in Postgres so that every
 * replica signs with the same key and accepts every other replica's tokens.
 */
@Injectable()
export class TokenSigner implements OnModuleInit {
  private current: { kid: string; key: KeyObject } | undefined;
  private publicKeys = new Map<string, KeyObject>();
  private jwks: Array<Record<string, string>> = [];
  private lastReload = 0;
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeysRepository,
    private readonly box: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    const newest = await this.keys.newestOrCreate(() => this.generate());
    this.current = { kid: newest.kid, key: createPrivateKey(this.box.open(newest.sealedPrivateKey, `signing-key:${newest.kid}`).toString('utf8')) };
    await this.reload();
  }

  private generate(): SigningKeyEntity {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const entity = new SigningKeyEntity();
    entity.kid = randomUUID();
    entity.sealedPrivateKey = this.box.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), `signing-key:${entity.kid}`);
    entity.publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    entity.createdAt = new Date();
    return entity;
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const all = await this.keys.all();
    this.publicKeys = new Map(all.map((k) => [k.kid, createPublicKey({ key: k.publicJwk, format: 'jwk' })]));
    this.jwks = all.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' }));
  }

  jsonWebKeySet(): { keys: Array<Record<string, string>> } {
    return { keys: this.jwks };
  }

  issue(clientId: string, scopes: string[], generation = 0): { token: string; claims: AccessTokenClaims } {
    if (this.current === undefined) throw new Error('TokenSigner used before initialisation');
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.config.publicUrl,
      aud: this.config.tokenAudience,
      sub: clientId,
      scope: scopes.join(' '),
      iat: now,
      exp: now + this.config.accessTokenTtlSeconds,
      jti: randomUUID(),
      gen: generation,
    };
    const input = `${b64url({ alg: 'ES256', typ: 'at+jwt', kid: this.current.kid })}.${b64url(claims)}`;
    const signature = toLowS(sign('sha256', Buffer.from(input), { key: this.current.key, dsaEncoding: 'ieee-p1363' }));
    return { token: `${input}.${signature.toString('base64url')}`, claims };
  }

  /** Verifies signature and claims; throws InvalidTokenError with a reason safe to show. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (known.exp > Math.floor(Date.now() / 1000)) return known;
      this.verified.delete(token);
    }
    const claims = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }

  private async verifySignature(token: string): Promise<AccessTokenClaims> {
    const parts = token.split('.');
    if (parts.length !== 3) throw new InvalidTokenError('The access token is malformed');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = parseJson(headerPart);
    // Only the algorithm we issue: never "none", never HS256 with a public key as secret.
    if (header.alg !== 'ES256' || header.typ !== 'at+jwt' || typeof header.kid !== 'string') {
      throw new InvalidTokenError('The access token is not one this service issued');
    }
    let key = this.publicKeys.get(header.kid);
    if (key === undefined && Date.now() - this.lastReload > RELOAD_INTERVAL_MS) {
      await this.reload();
      key = this.publicKeys.get(header.kid);
    }
    const signature = Buffer.from(signaturePart, 'base64url');
    if (key === undefined || !isLowS(signature)) throw new InvalidTokenError('The access token signature is not valid');
    const valid = verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) throw new InvalidTokenError('The access token signature is not valid');
    return this.checkClaims(parseJson(payloadPart));
  }

  private checkClaims(c: Record<string, unknown>): AccessTokenClaims {
    const now = Math.floor(Date.now() / 1000);
    if (c.iss !== this.config.publicUrl) throw new InvalidTokenError('The access token has the wrong issuer');
    const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!audiences.includes(this.config.tokenAudience)) throw new InvalidTokenError('The access token has the wrong audience');
    if (typeof c.exp !== 'number' || c.exp <= now) throw new InvalidTokenError('The access token has expired');
    if (typeof c.iat !== 'number' || c.iat > now + LEEWAY_SECONDS) throw new InvalidTokenError('The access token is not valid yet');
    if (c.nbf !== undefined && (typeof c.nbf !== 'number' || c.nbf > now + LEEWAY_SECONDS)) {
      throw new InvalidTokenError('The access token is not valid yet');
    }
    if (typeof c.sub !== 'string' || typeof c.scope !== 'string' || typeof c.jti !== 'string') {
      throw new InvalidTokenError('The access token is missing claims');
    }
    if (!UUID_V4.test(c.sub)) throw new InvalidTokenError('The access token has an invalid subject');
    const gen = c.gen ?? 0;
    if (typeof gen !== 'number' || !Number.isInteger(gen)) throw new InvalidTokenError('The access token has an invalid generation');
    return { iss: c.iss, aud: this.config.tokenAudience, sub: c.sub.toLowerCase(), scope: c.scope, iat: c.iat, exp: c.exp, jti: c.jti, gen };
  }
}

function parseJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: a token that is not JSON is simply invalid
  }
  throw new InvalidTokenError('The access token is malformed');
}
