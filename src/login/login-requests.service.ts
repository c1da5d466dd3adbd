import { randomBytes, randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CounterStore } from '../counters/counter.store.js';
import { deviceNotFound, noActiveDevice } from '../devices/device.errors.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { type QrFormat, type QrImage, renderQr } from '../devices/qr-image.js';
import type { CreatedLoginRequestDto, CreateLoginRequestDto, LoginRequestDto } from './dto/login-requests.dto.js';
import { type LoginRequest, type LoginStatus, qrPayload, statusAt } from './login-request.js';
import { LoginRequestStore } from './login-request.store.js';
import { loginRequestNotFound, tooManyLoginRequests } from './login.errors.js';
import { LOGIN_OCRA_SUITE } from './login-proof.js';

/** An outcome stays readable (and an approval redeemable) this long after the request expires. */
export const LOGIN_RETENTION_MS = 60_000;
/** A long-poll re-reads at least this often, so a lost pub/sub message costs at most this delay. */
const RECHECK_MS = 5_000;
/** New login requests per user and client per minute: the phone is not a spam target. */
const CREATE_LIMIT_PER_MINUTE = 10;

const MESSAGES: Record<LoginStatus, string> = {
  PENDING: 'Waiting for the phone',
  APPROVED: 'Approved on the phone',
  DENIED: 'Denied on the phone',
  EXPIRED: 'The login request expired before the phone answered',
  FAILED: 'Too many wrong responses: the login request failed',
};

/** A user's counters: new login requests per minute, and wrong responses per lock period (login-decisions.service.ts). */
export const loginCounters = (clientId: string, userId: string) => ({
  creates: `login-create:${clientId}:${userId}`,
  guesses: `login-guess:${clientId}:${userId}`,
});

export const toLoginRequestDto = (request: LoginRequest, status: LoginStatus, message = MESSAGES[status]): LoginRequestDto => ({
  status,
  message,
  requestId: request.requestId,
  userId: request.userId,
  deviceId: request.decidedBy ?? request.boundDeviceId,
  expiresAt: new Date(request.expiresAt).toISOString(),
  display: request.display,
  redeemed: request.redeemedAt !== null,
});

/** API.md §11: login requests, their QR code, and the long-poll for their status. Decisions: login-decisions.service.ts. */
@Injectable()
export class LoginRequestsService implements BeforeApplicationShutdown {
  private stopped = false;

  /** True once the service is stopping: long-polls answer at once. */
  get stopping(): boolean {
    return this.stopped;
  }

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly store: LoginRequestStore,
    private readonly devices: DevicesRepository,
    private readonly counters: CounterStore,
    private readonly audit: AuditService,
  ) {}

  async create(caller: Caller, userId: string, body: CreateLoginRequestDto): Promise<CreatedLoginRequestDto> {
    const deviceId = body.deviceId?.toLowerCase() ?? null;
    if (deviceId !== null) {
      if (!(await this.devices.existsForClient(caller.clientId, userId, deviceId))) throw deviceNotFound();
    } else if ((await this.devices.listForUser(caller.clientId, userId, 'primary')).length === 0) {
      throw noActiveDevice();
    }
    const window = await this.counters.reserve(loginCounters(caller.clientId, userId).creates, CREATE_LIMIT_PER_MINUTE, 60_000);
    if (!window.granted) throw tooManyLoginRequests(window.resetInMs / 1000);
    const now = this.clock.nowMs();
    const request: LoginRequest = {
      requestId: randomUUID(),
      clientId: caller.clientId,
      userId,
      boundDeviceId: deviceId,
      challenge: randomBytes(20).toString('hex'),
      ocraSuite: LOGIN_OCRA_SUITE,
      display: { ...body.display },
      createdAt: now,
      expiresAt: now + this.config.loginRequestTtlSeconds * 1000,
      state: 'PENDING',
      failures: 0,
      decidedBy: null,
      decidedAt: null,
      redeemedAt: null,
    };
    await this.store.create(request, request.expiresAt - now + LOGIN_RETENTION_MS);
    // Then recorded: if that fails the caller gets 503 without the id, and the request expires unused.
    const expiresAt = new Date(request.expiresAt).toISOString();
    const detail = { loginRequestId: request.requestId, expiresAt };
    await this.audit.record({ type: 'LOGIN_REQUESTED', caller, userId, deviceId: deviceId ?? undefined, detail });
    return {
      ...toLoginRequestDto(request, 'PENDING'),
      challenge: request.challenge,
      ocraSuite: request.ocraSuite,
      qrPayload: qrPayload(request, this.config.totp.issuer),
      qrCodeUrl: `/v1/users/${encodeURIComponent(userId)}/login-requests/${request.requestId}/qr`,
    };
  }

  async qrCode(caller: Caller, userId: string, requestId: string, format: QrFormat): Promise<QrImage> {
    const request = await this.store.get(caller.clientId, userId, requestId);
    if (request === undefined) throw loginRequestNotFound();
    return renderQr(qrPayload(request, this.config.totp.issuer), format);
  }

  /**
   * The status, long-polled: the waiter is registered before the read, so a decision announced
   * (from any replica) between the read and the wait wakes it; it re-reads at least every
   * RECHECK_MS in case a message was lost, and at the request's expiry.
   */
  async status(caller: Caller, userId: string, requestId: string, waitSeconds = 0): Promise<LoginRequestDto> {
    // The wait is measured on the monotonic clock; the expiry on the service's clock.
    const until = performance.now() + waitSeconds * 1000;
    for (;;) {
      const watch = waitSeconds > 0 && !this.stopping ? await this.store.watch(caller.clientId, requestId) : undefined;
      let request: LoginRequest | undefined;
      try {
        request = await this.store.get(caller.clientId, userId, requestId);
      } catch (error) {
        watch?.cancel();
        throw error;
      }
      if (request === undefined) {
        watch?.cancel();
        throw loginRequestNotFound();
      }
      const now = this.clock.nowMs();
      const status = statusAt(request, now);
      const left = Math.min(until - performance.now(), request.expiresAt - now);
      if (watch === undefined || status !== 'PENDING' || left <= 0 || this.stopping) {
        watch?.cancel();
        return toLoginRequestDto(request, status);
      }
      await watch.done(Math.min(left, RECHECK_MS));
    }
  }

  /** Erasing a user: their login requests (a wait on one ends at its next re-read, 404) and their counters, for this client. */
  async eraseUser(clientId: string, userId: string): Promise<void> {
    await this.store.eraseUser(clientId, userId);
    const { creates, guesses } = loginCounters(clientId, userId);
    await Promise.all([this.counters.forget(creates), this.counters.forget(guesses)]);
  }

  /** Long-polls answer now with what they have, so they do not hold the shutdown. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    this.store.wakeAll();
  }
}
