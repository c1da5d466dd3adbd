import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig, UUID_V4 } from '../config/config.js';
import { SecretBox } from '../totp/secret-box.js';
import { isLowS, toLowS } from './low-s.js';
import type { SigningKey } from './oauth-client.js';
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

// Leeway for clock skew between replicas (RFC 7519 §4.1.4 allows "some small leeway").
const LEEWAY_SECONDS = 30;
const RELOAD_INTERVAL_MS = 5000;
// Callers reuse a token for its whole life, so a verified token is remembered (until it expires)
// instead of checking its ECDSA signature on every request. Bounded: the oldest entries go first.
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * ES256 access tokens (RFC 9068 profile), signed and verified with jose, with a key kept sealed in
 * Postgres so that every replica signs with the same key and accepts every other replica's tokens.
 * Only low-S signatures are issued and accepted (low-s.ts).
 */
@Injectable()
export class TokenSigner implements OnModuleInit {
  private current: { kid: string; key: KeyObject } | undefined;
  private keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  private jwks: JSONWebKeySet = { keys: [] };
  private lastReload = 0;
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeysRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const newest = await this.keys.newestOrCreate(() => this.generate());
    this.current = { kid: newest.kid, key: createPrivateKey(this.box.open(newest.sealedPrivateKey, `signing-key:${newest.kid}`).toString('utf8')) };
    await this.reload();
  }

  private generate(): SigningKey {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomUUID();
    return {
      kid,
      sealedPrivateKey: this.box.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), `signing-key:${kid}`),
      publicJwk: publicKey.export({ format: 'jwk' }) as Record<string, string>,
      createdAt: this.clock.now(),
    };
  }

  private async reload(): Promise<void> {
    this.lastReload = this.clock.nowMs();
    const all = await this.keys.all();
    this.jwks = { keys: all.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })) };
    this.keySet = createLocalJWKSet(this.jwks);
  }

  jsonWebKeySet(): JSONWebKeySet {
    return this.jwks;
  }

  async issue(clientId: string, scopes: string[], generation = 0): Promise<{ token: string; claims: AccessTokenClaims }> {
    if (this.current === undefined) throw new Error('TokenSigner used before initialisation');
    const iat = this.clock.nowSeconds();
    const claims: AccessTokenClaims = {
      iss: this.config.publicUrl,
      aud: this.config.tokenAudience,
      sub: clientId,
      scope: scopes.join(' '),
      iat,
      exp: iat + this.config.accessTokenTtlSeconds,
      jti: randomUUID(),
      gen: generation,
    };
    const signed = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: this.current.kid }).sign(this.current.key);
    const [head, body, signature] = signed.split('.');
    return { token: `${head}.${body}.${toLowS(Buffer.from(signature, 'base64url')).toString('base64url')}`, claims };
  }

  /** Verifies signature and claims; throws InvalidTokenError with a reason safe to show. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (known.exp > this.clock.nowSeconds()) return known;
      this.verified.delete(token);
    }
    const claims = await this.verifyToken(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }

  private async verifyToken(token: string): Promise<AccessTokenClaims> {
    const parts = token.split('.');
    // One spelling per token: canonical base64url only (Node's decoder also takes '+', '/', padding
    // and stray low bits, which would make several strings of one token).
    if (parts.length !== 3 || !parts.every(isCanonicalBase64url)) throw new InvalidTokenError('The access token is malformed');
    if (!isLowS(Buffer.from(parts[2], 'base64url'))) throw new InvalidTokenError('The access token signature is not valid');
    let payload: Record<string, unknown>;
    try {
      payload = (await this.jwtVerify(token)).payload;
    } catch (error) {
      throw new InvalidTokenError(describe(error));
    }
    return this.checkClaims(payload);
  }

  private async jwtVerify(token: string) {
    // Only the algorithm we issue: never "none", never HS256 with a public key as secret.
    const options = {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer: this.config.publicUrl,
      audience: this.config.tokenAudience,
      clockTolerance: LEEWAY_SECONDS,
      currentDate: this.clock.now(),
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    };
    try {
      return await jwtVerify(token, this.keySet!, options);
    } catch (error) {
      // A key made by another replica after this one loaded the set: reload (at most every 5 s).
      if (!(error instanceof errors.JWKSNoMatchingKey) || this.clock.nowMs() - this.lastReload < RELOAD_INTERVAL_MS) throw error;
      await this.reload();
      return jwtVerify(token, this.keySet!, options);
    }
  }

  private checkClaims(c: Record<string, unknown>): AccessTokenClaims {
    const now = this.clock.nowSeconds();
    if (typeof c.iat !== 'number' || c.iat > now + LEEWAY_SECONDS) throw new InvalidTokenError('The access token is not valid yet');
    if (typeof c.sub !== 'string' || typeof c.scope !== 'string' || typeof c.jti !== 'string' || typeof c.exp !== 'number') {
      throw new InvalidTokenError('The access token is missing claims');
    }
    if (!UUID_V4.test(c.sub)) throw new InvalidTokenError('The access token has an invalid subject');
    const gen = c.gen ?? 0;
    if (typeof gen !== 'number' || !Number.isInteger(gen)) throw new InvalidTokenError('The access token has an invalid generation');
    return {
      iss: this.config.publicUrl,
      aud: this.config.tokenAudience,
      sub: c.sub.toLowerCase(),
      scope: c.scope,
      iat: c.iat,
      exp: c.exp,
      jti: c.jti,
      gen,
    };
  }
}

const isCanonicalBase64url = (part: string): boolean =>
  /^[A-Za-z0-9_-]+$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;

/** A reason safe to show in the RFC 6750 error_description. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The access token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'The access token has the wrong issuer';
      case 'aud':
        return 'The access token has the wrong audience';
      case 'nbf':
      case 'iat':
        return 'The access token is not valid yet';
      case 'typ':
        return 'The access token is not one this service issued';
      default:
        return 'The access token is missing claims';
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'The access token is not one this service issued';
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey)
    return 'The access token signature is not valid';
  if (error instanceof errors.JOSEError) return 'The access token is malformed';
  throw error;
}
