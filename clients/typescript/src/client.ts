import createClient, { type Client } from 'openapi-fetch';
import { unwrap } from './errors.js';
import { type IdempotencyKeys, wantsIdempotencyKey } from './idempotency.js';
import { LoginRequests } from './login-requests.js';
import { retryableApiAnswer, retryableTokenAnswer, type RetryOptions, sendWithRetries, sleep } from './retry.js';
import type { components, paths } from './schema.js';
import { TokenProvider } from './token-provider.js';

type Schemas = components['schemas'];
export type CreateDeviceRequest = Schemas['CreateDeviceDto'];
export type CreatedRegistration = Schemas['CreatedRegistrationDto'];
export type Device = Schemas['DeviceDto'];
export type DeviceList = Schemas['DeviceListDto'];
export type OtpAccepted = Schemas['OtpAcceptedDto'];
export type AuditEventsPage = Schemas['AuditEventsPageDto'];
export type ActivatedDevice = Schemas['ActivatedDeviceDto'];
export type RecoveryCodeUsed = Schemas['RecoveryCodeUsedDto'];
export type RecoveryCodesIssued = Schemas['RecoveryCodesIssuedDto'];
export type RecoveryCodesState = Schemas['RecoveryCodesStateDto'];
export type AuditEvent = AuditEventsPage['events'][number];
export interface Page {
  limit?: number;
  cursor?: string;
}

export interface TotpClientOptions {
  /** The service's PUBLIC_URL, e.g. https://totp.example.com */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scopes to ask for (space-separated or a list); all the client was onboarded with when absent. */
  scope?: string | string[];
  /** Get a new token this long before the current one expires (default 60; at most half its lifetime). */
  refreshMarginSeconds?: number;
  /** Retries after 503 or 429 RATE_LIMITED, honouring Retry-After (default 3; 0 turns them off). */
  retries?: number;
  /** Retry POST, PATCH and DELETE after a 503 too (default true; see RetryOptions.retryUnsafe). */
  retryUnsafe?: boolean;
  /**
   * Which POSTs carry an Idempotency-Key, the same on each retry (default 'where-replay-matters':
   * create, import, activate, regenerate and verify recovery codes, create and redeem login
   * requests; 'all': every POST). Keys count towards the service's hourly quota per client.
   */
  idempotencyKeys?: IdempotencyKeys;
  /** A Retry-After longer than this is not waited for; the error is thrown (default 30 000). */
  maxRetryDelayMs?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** For tests: the clock of token expiry and the wait between retries. */
  now?: () => number;
  sleep?: RetryOptions['sleep'];
}

/**
 * The TOTP device-registration API, typed from its OpenAPI document. Tokens are fetched, cached
 * and refreshed by the client; a 503 or 429 is retried after its Retry-After; every other error
 * is thrown as a TotpApiError whose `code` is one of the documented codes.
 */
export class TotpClient {
  /** The generated openapi-fetch client, authenticated and retrying, for anything not wrapped below. */
  readonly api: Client<paths>;
  /** Login by QR code: create, status (long-poll), QR code, approve / deny, redeem. */
  readonly loginRequests: LoginRequests;
  private readonly tokens: TokenProvider;
  private readonly retry: RetryOptions;
  private readonly idempotencyKeys: IdempotencyKeys;
  private readonly fetch: (request: Request) => Promise<Response>;

  constructor(options: TotpClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    this.retry = {
      retries: options.retries ?? 3,
      maxDelayMs: options.maxRetryDelayMs ?? 30_000,
      retryUnsafe: options.retryUnsafe ?? true,
      sleep: options.sleep ?? sleep,
    };
    this.idempotencyKeys = this.retry.retryUnsafe ? (options.idempotencyKeys ?? 'where-replay-matters') : 'none';
    this.tokens = new TokenProvider({
      tokenUrl: `${baseUrl}/oauth/token`,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scope: Array.isArray(options.scope) ? options.scope.join(' ') : options.scope,
      refreshMarginSeconds: options.refreshMarginSeconds ?? 60,
      send: (request) => sendWithRetries(request, this.fetch, { ...this.retry, retryUnsafe: true }, retryableTokenAnswer),
      now: options.now ?? Date.now,
    });
    this.api = createClient<paths>({ baseUrl, fetch: (request) => this.authorized(request) });
    this.loginRequests = new LoginRequests(this.api);
  }

  /** The current access token (fetched or refreshed when needed). */
  accessToken(): Promise<string> {
    return this.tokens.token();
  }

  /** Starts an enrolment: a pending registration with its secret and QR code URL (shown once). */
  async createDevice(userId: string, body: CreateDeviceRequest): Promise<CreatedRegistration> {
    return unwrap(await this.api.POST('/v1/users/{userId}/devices', { params: { path: { userId } }, body }));
  }

  /** The registration's QR code: PNG bytes, or SVG text. */
  async getDeviceQrCode(userId: string, authId: string, format: 'png'): Promise<Uint8Array>;
  async getDeviceQrCode(userId: string, authId: string, format: 'svg'): Promise<string>;
  async getDeviceQrCode(userId: string, authId: string, format: 'png' | 'svg'): Promise<Uint8Array | string> {
    const params = { path: { userId, authId } };
    const headers = { accept: format === 'png' ? 'image/png' : 'image/svg+xml' };
    if (format === 'svg') return unwrap(await this.api.GET('/v1/users/{userId}/devices/{authId}/qr', { params, headers, parseAs: 'text' }));
    return new Uint8Array(unwrap(await this.api.GET('/v1/users/{userId}/devices/{authId}/qr', { params, headers, parseAs: 'arrayBuffer' })));
  }

  /** Activates a registration with the first code the app shows; with the user's recovery codes when it is their first device. */
  async activateDevice(userId: string, authId: string, otp: string): Promise<ActivatedDevice> {
    return unwrap(await this.api.POST('/v1/users/{userId}/devices/{authId}/activate', { params: { path: { userId, authId } }, body: { otp } }));
  }

  /** Verifies a login code against one device. */
  async verifyDeviceOtp(userId: string, deviceId: string, otp: string): Promise<OtpAccepted> {
    return unwrap(await this.api.POST('/v1/users/{userId}/devices/{deviceId}/verify', { params: { path: { userId, deviceId } }, body: { otp } }));
  }

  /** Verifies a login code against all of the user's active devices; says which one matched. */
  async verifyUserOtp(userId: string, otp: string): Promise<OtpAccepted> {
    return unwrap(await this.api.POST('/v1/users/{userId}/verify', { params: { path: { userId } }, body: { otp } }));
  }

  async listDevices(userId: string, page: Page = {}): Promise<DeviceList> {
    return unwrap(await this.api.GET('/v1/users/{userId}/devices', { params: { path: { userId }, query: page } }));
  }

  /** An active device or a pending registration, by deviceId or authId. */
  async getDevice(userId: string, deviceId: string): Promise<Device> {
    return unwrap(await this.api.GET('/v1/users/{userId}/devices/{deviceId}', { params: { path: { userId, deviceId } } })).device;
  }

  async renameDevice(userId: string, deviceId: string, deviceName: string): Promise<Device> {
    return unwrap(await this.api.PATCH('/v1/users/{userId}/devices/{deviceId}', { params: { path: { userId, deviceId } }, body: { deviceName } }))
      .device;
  }

  /** Deletes an active device or a pending registration. */
  async deleteDevice(userId: string, deviceId: string): Promise<void> {
    unwrap(await this.api.DELETE('/v1/users/{userId}/devices/{deviceId}', { params: { path: { userId, deviceId } } }));
  }

  /** The user's audit trail, newest first. */
  async listUserEvents(userId: string, page: Page = {}): Promise<AuditEventsPage> {
    return unwrap(await this.api.GET('/v1/users/{userId}/events', { params: { path: { userId }, query: page } }));
  }

  /** Logs in with a recovery code (each works once); remainingCodes says how many are left. */
  async verifyRecoveryCode(userId: string, code: string): Promise<RecoveryCodeUsed> {
    return unwrap(await this.api.POST('/v1/users/{userId}/recovery-codes/verify', { params: { path: { userId } }, body: { code } }));
  }

  /** A new set of recovery codes; the old set stops working at once. */
  async regenerateRecoveryCodes(userId: string): Promise<RecoveryCodesIssued> {
    return unwrap(await this.api.POST('/v1/users/{userId}/recovery-codes', { params: { path: { userId } } }));
  }

  async getRecoveryCodesState(userId: string): Promise<RecoveryCodesState> {
    return unwrap(await this.api.GET('/v1/users/{userId}/recovery-codes', { params: { path: { userId } } }));
  }

  /** Erases everything of the user for this client (devices, registrations, recovery codes, locks). */
  async eraseUser(userId: string): Promise<void> {
    unwrap(await this.api.DELETE('/v1/users/{userId}', { params: { path: { userId } } }));
  }

  /** Every page of the user's devices. */
  async *allDevices(userId: string, pageSize = 100): AsyncGenerator<Device> {
    let cursor: string | undefined;
    do {
      const page = await this.listDevices(userId, { limit: pageSize, cursor });
      yield* page.devices;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Adds the bearer token (and an Idempotency-Key where wanted); once more with a new token if the service refuses it as invalid (rotated keys). */
  private async authorized(request: Request): Promise<Response> {
    // One key per call, the same on every retry: a POST the service already answered is not run twice.
    const key = wantsIdempotencyKey(request, this.idempotencyKeys) ? globalThis.crypto.randomUUID() : undefined;
    for (let renewed = false; ; renewed = true) {
      const token = await this.tokens.token();
      const authed = new Request(request.clone());
      authed.headers.set('authorization', `Bearer ${token}`);
      if (key !== undefined) authed.headers.set('idempotency-key', key);
      const response = await sendWithRetries(authed, this.fetch, this.retry, retryableApiAnswer);
      const invalid = response.status === 401 && (response.headers.get('www-authenticate') ?? '').includes('invalid_token');
      if (!invalid || renewed) return response;
      this.tokens.invalidate(token);
      await response.body?.cancel();
    }
  }
}
