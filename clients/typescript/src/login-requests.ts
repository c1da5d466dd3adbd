import type { Client } from 'openapi-fetch';
import { unwrap } from './errors.js';
import type { components, paths } from './schema.js';

type Schemas = components['schemas'];
export type CreateLoginRequest = Schemas['CreateLoginRequestDto'];
export type CreatedLoginRequest = Schemas['CreatedLoginRequestDto'];
export type LoginRequest = Schemas['LoginRequestDto'];

const ONE = '/v1/users/{userId}/login-requests/{requestId}';

/**
 * Login by QR code (API.md §11). The web app's backend creates a request, shows its QR code,
 * waits for the status and redeems the approval; the organisation's app backend approves or denies
 * with the phone's OCRA response. Reached as `TotpClient.loginRequests`.
 */
export class LoginRequests {
  constructor(private readonly api: Client<paths>) {}

  /** A pending login request: challenge, OCRA suite, QR payload and QR code URL. */
  async create(userId: string, body: CreateLoginRequest = {}): Promise<CreatedLoginRequest> {
    return unwrap(await this.api.POST('/v1/users/{userId}/login-requests', { params: { path: { userId } }, body }));
  }

  /** The status; with `waitSeconds` (up to 25), answers as soon as it is no longer PENDING. */
  async get(userId: string, requestId: string, waitSeconds?: number): Promise<LoginRequest> {
    return unwrap(await this.api.GET(ONE, { params: { path: { userId, requestId }, query: { waitSeconds } } }));
  }

  /** The QR code: PNG bytes, or SVG text. */
  async qrCode(userId: string, requestId: string, format: 'png'): Promise<Uint8Array>;
  async qrCode(userId: string, requestId: string, format: 'svg'): Promise<string>;
  async qrCode(userId: string, requestId: string, format: 'png' | 'svg'): Promise<Uint8Array | string> {
    const params = { path: { userId, requestId } };
    const headers = { accept: format === 'png' ? 'image/png' : 'image/svg+xml' };
    if (format === 'svg') return unwrap(await this.api.GET(`${ONE}/qr`, { params, headers, parseAs: 'text' }));
    return new Uint8Array(unwrap(await this.api.GET(`${ONE}/qr`, { params, headers, parseAs: 'arrayBuffer' })));
  }

  /** The phone approves, proving the device with its OCRA response over the challenge. */
  async approve(userId: string, requestId: string, deviceId: string, response: string): Promise<LoginRequest> {
    return unwrap(await this.api.POST(`${ONE}/approve`, { params: { path: { userId, requestId } }, body: { deviceId, response } }));
  }

  /** The phone denies (a valid OCRA response is needed for that too). */
  async deny(userId: string, requestId: string, deviceId: string, response: string): Promise<LoginRequest> {
    return unwrap(await this.api.POST(`${ONE}/deny`, { params: { path: { userId, requestId } }, body: { deviceId, response } }));
  }

  /** One approval, one session: resolves once, then throws ALREADY_REDEEMED. */
  async redeem(userId: string, requestId: string): Promise<LoginRequest> {
    return unwrap(await this.api.POST(`${ONE}/redeem`, { params: { path: { userId, requestId } } }));
  }
}
