import { TotpTokenError } from './errors.js';
import type { components } from './schema.js';

export type TokenResponse = components['schemas']['TokenResponseDto'];

export interface TokenProviderOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scopes to ask for; all the client was onboarded with when absent. */
  scope?: string;
  /** Get a new token this long before the current one expires (at most half its lifetime). */
  refreshMarginSeconds: number;
  /** Sends the token request (with the client's retries). */
  send: (request: Request) => Promise<Response>;
  now: () => number;
}

// A token this close to its expiry is not sent: it could expire on the way.
const EXPIRY_SAFETY_MS = 5000;

interface CachedToken {
  token: string;
  refreshAt: number;
  expiresAt: number;
}

/**
 * Access tokens by client credentials (client_secret_basic), cached, and refreshed in the
 * background from shortly before they expire. However many calls need a token at once, one token
 * request is in flight; nobody waits for it while the current token is still valid.
 */
export class TokenProvider {
  private current: CachedToken | undefined;
  private inFlight: Promise<CachedToken> | undefined;

  constructor(private readonly options: TokenProviderOptions) {}

  async token(): Promise<string> {
    const current = this.current;
    const now = this.options.now();
    if (current !== undefined && now < current.refreshAt) return current.token;
    this.inFlight ??= this.request()
      .then((fresh) => (this.current = fresh))
      .finally(() => (this.inFlight = undefined));
    // Inside the margin the current token still serves while the new one comes; it is waited for
    // only when there is no usable token (a failed background refresh is tried again next call).
    if (current !== undefined && now < current.expiresAt - EXPIRY_SAFETY_MS) {
      this.inFlight.catch(() => undefined);
      return current.token;
    }
    return (await this.inFlight).token;
  }

  /** Forgets `token` (the API refused it as invalid): the next call gets a new one. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async request(): Promise<CachedToken> {
    const { clientId, clientSecret, scope } = this.options;
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined) body.set('scope', scope);
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for Basic.
    const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
    const started = this.options.now();
    const response = await this.options.send(
      new Request(this.options.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
      }),
    );
    const json: unknown = await response.json().catch(() => undefined);
    if (response.status !== 200) throw new TotpTokenError(response, json);
    const granted = json as TokenResponse;
    const lifetimeMs = granted.expires_in * 1000;
    const marginMs = Math.min(this.options.refreshMarginSeconds * 1000, lifetimeMs / 2);
    return { token: granted.access_token, expiresAt: started + lifetimeMs, refreshAt: started + lifetimeMs - marginMs };
  }
}
