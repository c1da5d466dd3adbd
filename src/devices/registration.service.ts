import { randomUUID } from 'node:crypto';
import { Metrics } from '../observability/metrics.js';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { type PendingRegistration, PendingStore } from '../pending/pending.store.js';
import { RecoveryCodesService } from '../recovery/recovery-codes.service.js';
import { newSecret, registrationUri, toBase32 } from '../totp/totp.js';
import { ClientPolicies } from '../auth/client-policies.js';
import { ClientRateLimiter } from './client-rate-limiter.js';
import { DeviceSecrets } from './device-secrets.js';
import { activatedDevice } from './device.js';
import * as errors from './device.errors.js';
import { DevicesRepository } from './devices.repository.js';
import type { CreateDeviceDto } from './dto/device-requests.dto.js';
import type { ActivatedDeviceDto, CreatedRegistrationDto } from './dto/device-responses.dto.js';
import { type QrFormat, type QrImage, renderQr } from './qr-image.js';

// Long enough for one Postgres insert under load; short enough that a crashed replica's lock soon lapses.
const ACTIVATION_LOCK_MS = 5000;

/** API.md §4: create a pending registration, show its QR code, activate it with the first OTP. */
@Injectable()
export class RegistrationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly store: PendingStore,
    private readonly devices: DevicesRepository,
    private readonly secrets: DeviceSecrets,
    private readonly audit: AuditService,
    private readonly rateLimiter: ClientRateLimiter,
    private readonly recovery: RecoveryCodesService,
    private readonly clock: Clock,
    private readonly policies: ClientPolicies,
    private readonly metrics: Metrics,
  ) {}

  async create(caller: Caller, userId: string, dto: CreateDeviceDto): Promise<CreatedRegistrationDto> {
    if (dto.deviceType !== 'TOTP') throw errors.unsupportedDeviceType();
    await this.rateLimiter.check(caller.clientId);
    const { limits } = this.config;
    // The client's policy for new devices (API.md §12); the registration, and the device, keep it.
    const policy = await this.policies.forClient(caller.clientId);
    const authId = randomUUID();
    const secret = newSecret(policy.algorithm);
    const now = this.clock.nowMs();
    const registration: PendingRegistration = {
      authId,
      clientId: caller.clientId,
      userId,
      deviceType: 'TOTP',
      deviceName: dto.deviceName,
      accountName: dto.accountName ?? userId,
      sealedSecret: this.secrets.seal(caller.clientId, authId, secret),
      algorithm: policy.algorithm,
      digits: policy.digits,
      period: policy.period,
      window: policy.window,
      issuer: policy.issuer,
      createdAt: now,
      expiresAt: now + this.config.pendingRegistrationTtlSeconds * 1000,
    };
    const outcome = await this.store.create(registration, { perUser: policy.maxPendingPerUser, perClient: limits.maxPendingPerClient });
    if (outcome === 'USER_LIMIT') throw errors.deviceLimitReached(`A user may have at most ${policy.maxPendingPerUser} pending registrations`);
    if (outcome === 'CLIENT_LIMIT')
      throw errors.deviceLimitReached(`This client has ${limits.maxPendingPerClient} pending registrations, the most allowed`);
    // Checked against the active devices after the registration is in Redis, in the statement that
    // also writes its audit event. A refused or failed check takes the registration back out.
    const admission = await this.devices
      .admit({
        id: authId,
        clientId: caller.clientId,
        userId,
        deviceName: dto.deviceName,
        maxActive: policy.maxActivePerUser,
        expiresAt: new Date(registration.expiresAt),
        requestId: caller.requestId,
        at: new Date(now),
      })
      .catch(async (error: unknown) => {
        await this.withdraw(registration);
        throw error;
      });
    if (admission !== 'OK') {
      await this.withdraw(registration);
      throw admission === 'NAME_TAKEN' ? errors.deviceNameTaken() : errors.activeLimitReached(policy.maxActivePerUser);
    }
    this.metrics.registration('created');
    return {
      authId,
      status: 'SUCCESS',
      message: 'Please get the OTP from registered device to authenticate',
      secret: toBase32(secret),
      registrationUri: registrationUri(policy.issuer, registration.accountName, secret, registration),
      qrCodeUrl: `/v1/users/${encodeURIComponent(userId)}/devices/${authId}/qr`,
      expiresAt: new Date(registration.expiresAt).toISOString(),
    };
  }

  /** Takes back a registration whose creation did not complete (its id and secret were never returned). */
  private async withdraw(r: PendingRegistration): Promise<void> {
    // Rare (Postgres and Redis failing at once): listed as pending, its QR shown to the same client, until its TTL ends.
    await this.store
      .remove(r.clientId, r.userId, r.authId, { evenIfClaimed: true })
      .catch((error: unknown) => this.logger.warn({ err: error, deviceId: r.authId }, 'could not withdraw a registration whose creation failed'));
  }

  async qrCode(caller: Caller, userId: string, authId: string, format: QrFormat): Promise<QrImage> {
    const registration = await this.store.get(caller.clientId, authId);
    if (registration === undefined || registration.userId !== userId || registration.expiresAt <= this.clock.nowMs())
      throw errors.registrationNotFound();
    // A registration left behind by an activation whose clean-up failed never shows its secret again.
    if (await this.devices.existsForClient(caller.clientId, userId, authId)) throw errors.registrationNotFound();
    const secret = this.secrets.open(caller.clientId, authId, registration.sealedSecret);
    return renderQr(registrationUri(registration.issuer ?? this.config.totp.issuer, registration.accountName, secret, registration), format);
  }

  async activate(caller: Caller, userId: string, authId: string, otp: string): Promise<ActivatedDeviceDto> {
    await this.rateLimiter.check(caller.clientId);
    const claim = await this.store.claim(caller.clientId, authId, ACTIVATION_LOCK_MS);
    if (claim.status === 'BUSY') throw errors.activationInProgress();
    const now = this.clock.now();
    if (claim.status === 'NOT_FOUND' || claim.registration.userId !== userId || claim.registration.expiresAt <= now.getTime()) {
      if (claim.status === 'OK') await this.store.release(caller.clientId, authId);
      throw (await this.devices.existsForClient(caller.clientId, userId, authId)) ? errors.alreadyActive() : errors.registrationNotFound();
    }
    const registration = claim.registration;
    if (otp.length !== registration.digits) {
      await this.store.release(caller.clientId, authId);
      throw errors.otpLength(registration.digits);
    }
    const step = this.secrets.match(caller.clientId, authId, registration.sealedSecret, registration, otp, now);
    if (step === undefined) return this.refuse(caller, registration);
    const device = activatedDevice(registration, this.secrets.keyIdOf(registration.sealedSecret), step, now);
    // The device limit is the client's as it is now (the client cache answers: no extra query).
    const { maxActivePerUser } = await this.policies.forClient(caller.clientId);
    const outcome = await this.devices
      .insertActive({ device, maxPerUser: maxActivePerUser, requestId: caller.requestId })
      .catch(async (error: unknown) => {
        // Postgres could not take the device: the registration stays pending for a retry.
        // If Redis fails too, the lock lapses by itself (ACTIVATION_LOCK_MS).
        await this.store
          .release(caller.clientId, authId)
          .catch((failure: unknown) => this.logger.warn({ err: failure, deviceId: authId }, 'could not release an activation lock'));
        throw error;
      });
    if (outcome === 'INVALID_DATA') return this.refuse(caller, registration, errors.invalidRegistrationData());
    if (outcome !== 'OK') {
      await this.store.release(caller.clientId, authId);
      if (outcome === 'ALREADY_ACTIVE' || (await this.devices.existsForClient(caller.clientId, userId, authId))) throw errors.alreadyActive();
      throw outcome === 'NAME_TAKEN' ? errors.deviceNameTaken() : errors.activeLimitReached(maxActivePerUser);
    }
    await this.finish(caller, userId, authId);
    this.metrics.registration('activated');
    // Exactly one activation gets here per registration; the user's first set is issued once.
    const recoveryCodes = await this.recovery.issueOnFirstActivation(caller, userId);
    return { status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId: authId, ...(recoveryCodes && { recoveryCodes }) };
  }

  /**
   * Removes the registration an activation has turned into a device. If it is gone already, its
   * lock lapsed during a stall longer than ACTIVATION_LOCK_MS and a delete (or expiry) took it: the
   * caller of that delete was told it is gone, so the device is taken back and this answers 404.
   */
  private async finish(caller: Caller, userId: string, authId: string): Promise<void> {
    let outcome;
    try {
      outcome = await this.store.remove(caller.clientId, userId, authId, { evenIfClaimed: true });
    } catch (error) {
      // The device is safe in Postgres; the leftover registration expires, is hidden by the device and answers 409.
      this.logger.warn({ err: error, deviceId: authId }, 'activated device, but could not remove its pending registration');
      return;
    }
    if (outcome !== 'NOT_FOUND') return;
    if (await this.devices.delete(caller.clientId, userId, authId)) {
      const detail = { reason: 'registration removed during activation' };
      await this.audit.record({ type: 'DEVICE_DELETED', caller, userId, deviceId: authId, detail });
    }
    throw errors.registrationNotFound();
  }

  private async refuse(caller: Caller, registration: PendingRegistration, refusal?: Error): Promise<never> {
    const { authId, userId } = registration;
    const outcome = await this.store.recordFailure(caller.clientId, userId, authId, this.config.limits.activationMaxAttempts);
    await this.audit.record({ type: 'ACTIVATION_FAILED', caller, userId, deviceId: authId });
    if (outcome.status === 'EXHAUSTED') {
      this.metrics.registration('exhausted');
      await this.audit.record({ type: 'REGISTRATION_EXHAUSTED', caller, userId, deviceId: authId });
      throw errors.tooManyAttempts();
    }
    if (outcome.status === 'NOT_FOUND') throw errors.registrationNotFound();
    throw refusal ?? errors.invalidOtp(outcome.remaining);
  }
}
