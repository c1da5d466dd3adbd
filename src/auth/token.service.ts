import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from 'pino';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig, UUID_V4 } from '../config/config.js';
import { CounterStore, type Reservation } from '../counters/counter.store.js';
import { throttleAddress } from './client-address.js';
import { secretMatches } from './client-secret.js';
import { ClientDirectory } from './client-directory.js';
import type { OAuthClient } from './oauth-client.js';
import { OAuthError } from '../common/oauth-error.js';
import { TokenSigner } from './token-signer.js';

export interface TokenRequest {
  authorization: string | undefined;
  body: unknown;
  ip: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

interface Credentials {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** RFC 6749 §4.4 client credentials grant with §2.3.1 client authentication. */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly directory: ClientDirectory,
    private readonly signer: TokenSigner,
    private readonly counters: CounterStore,
    private readonly metrics: Metrics,
  ) {}

  async issue(request: TokenRequest): Promise<TokenResponse> {
    try {
      const response = await this.grant(request);
      this.metrics.tokenGranted();
      return response;
    } catch (error) {
      this.metrics.tokenFailed(
        error instanceof OAuthError ? error.error : error instanceof DependencyUnavailableError ? 'temporarily_unavailable' : 'server_error',
      );
      throw error;
    }
  }

  private async grant(request: TokenRequest): Promise<TokenResponse> {
    const params = readParams(request.body);
    const grantType = params.get('grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'Only the client_credentials grant is supported');
    }
    const credentials = readCredentials(request.authorization, params);
    const client = await this.authenticate(credentials, request.ip);
    if (client.disabled) throw new OAuthError('unauthorized_client', 'This client is disabled');
    const scopes = grantedScopes(params.get('scope'), client.scopes);
    const { token, claims } = await this.signer.issue(client.id, scopes, client.tokenGeneration);
    this.logger.info({ clientId: client.id, jti: claims.jti, scope: claims.scope, method: credentials.method }, 'access token issued');
    return { access_token: token, token_type: 'Bearer', expires_in: this.config.accessTokenTtlSeconds, scope: claims.scope };
  }

  /**
   * Client authentication, throttled per client and source address. The secret is compared (in
   * constant time) first. A right secret of a known client is always accepted, whatever the count
   * (issue 10 §7: wrong secrets from a shared address must not lock a legitimate caller out; and
   * refusing a right guess of a 256-bit secret would protect nothing). A wrong secret is counted
   * only while the count is below CLIENT_AUTH_MAX_FAILURES (one atomic step), and answered 401 only
   * when it was counted, else 429: at most that many wrong secrets get a 401 per window, however
   * many arrive at once. Ids of no known client share one count per address, so invented ids keep
   * no state per id. The address is the one TRUST_PROXY yields: a caller cannot pick the address
   * its failures are counted under.
   */
  private async authenticate(credentials: Credentials, ip: string) {
    const limits = this.config.limits;
    const id = credentials.clientId.toLowerCase();
    const address = throttleAddress(ip);
    const client = UUID_V4.test(id) ? await this.findClient(id, address) : null;
    // Compare against a dummy hash for unknown clients too, so timing does not reveal which ids exist.
    const matches = secretMatches(credentials.clientSecret, client?.secretHash ?? '0'.repeat(64));
    if (matches && client !== null) return client;
    const counter = `client-auth:${client?.id ?? 'unknown'}:${address}`;
    const window = await this.throttleStep(
      () => this.counters.reserve(counter, limits.clientAuthMaxFailures, limits.clientAuthBlockSeconds * 1000),
      UNTHROTTLED,
    );
    if (!window.granted) throw tooManyFailures(window.resetInMs);
    this.logger.warn({ clientId: client?.id, ip, method: credentials.method }, 'client authentication failed');
    throw new OAuthError('invalid_client', 'Client authentication failed', { basicChallenge: credentials.method === 'client_secret_basic' });
  }

  /**
   * An id this replica does not know costs a lookup in Postgres. Once the address's count of unknown
   * ids is full, such an id is first only checked for existence, in one statement shared by all the
   * ids asked about at once (one statement at a time per replica), so a flood of invented ids costs
   * no lookup each; it answers 429 as its counted failure would have. It is not refused unchecked:
   * only the database tells a real client from an invented id (the cache lives a second), and a real
   * client's right secret must pass from any address (§7), a NAT shared with the flood included.
   */
  private async findClient(id: string, address: string): Promise<OAuthClient | null> {
    if (!this.directory.knows(id)) {
      const unknown = await this.throttleStep(() => this.counters.peek(`client-auth:unknown:${address}`), { count: 0, resetInMs: 0 });
      if (unknown.count >= this.config.limits.clientAuthMaxFailures && !(await this.directory.exists(id))) throw tooManyFailures(unknown.resetInMs);
    }
    return this.directory.find(id);
  }

  /**
   * The failed-authentication throttle is defence in depth: client secrets are 256-bit random
   * values. So while Redis is down it is skipped (and logged) rather than taking token issuance,
   * and with it every login verification, down with Redis.
   */
  private async throttleStep<T>(step: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      this.logger.warn('client-authentication throttle skipped: redis unavailable');
      return fallback;
    }
  }
}

const UNTHROTTLED: Reservation = { granted: true, count: 0, resetInMs: 0 };

const tooManyFailures = (resetInMs: number) =>
  new OAuthError('too_many_requests', 'Too many failed client authentications; retry later', {
    retryAfterSeconds: Math.max(1, Math.ceil(resetInMs / 1000)),
  });

function readParams(body: unknown): Map<string, string> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded or a JSON object');
  }
  const params = new Map<string, string>();
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    // RFC 6749 §3.2: parameters must not be included more than once.
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} is given more than once`);
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} must be a string`);
    params.set(name, value);
  }
  return params;
}

function readCredentials(authorization: string | undefined, params: Map<string, string>): Credentials {
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  const basic = authorization !== undefined && /^basic /i.test(authorization.trim());
  if (basic && (postSecret !== undefined || postId !== undefined)) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not Basic and the body together');
  }
  if (basic) {
    const decoded = decodeBasic(authorization.trim().slice(6).trim());
    if (decoded === undefined) throw new OAuthError('invalid_client', 'Malformed Basic credentials', { basicChallenge: true });
    return { ...decoded, method: 'client_secret_basic' };
  }
  if (postId !== undefined && postSecret !== undefined && postId !== '' && postSecret !== '') {
    return { clientId: postId, clientSecret: postSecret, method: 'client_secret_post' };
  }
  throw new OAuthError('invalid_client', 'Client authentication is required (HTTP Basic or client_id and client_secret)');
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined by ':'. */
function decodeBasic(value: string): { clientId: string; clientSecret: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  try {
    const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: unescape(text.slice(0, colon)), clientSecret: unescape(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** A subset of the client's onboarded scopes; none requested means all of them (API.md §1). */
function grantedScopes(requested: string | undefined, allowed: string[]): string[] {
  if (requested === undefined) return allowed;
  const wanted = [...new Set(requested.split(' ').filter((s) => s !== ''))];
  if (wanted.length === 0) throw new OAuthError('invalid_scope', 'scope is empty');
  const refused = wanted.filter((s) => !allowed.includes(s));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `This client may not request: ${refused.join(' ')}`);
  return wanted;
}
