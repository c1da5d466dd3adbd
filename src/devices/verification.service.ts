import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DeviceSecrets } from './device-secrets.js';
import type { AttemptResult } from './device-batches.js';
import type { Device } from './device.js';
import { deviceLocked, deviceNotFound, invalidOtp, noActiveDevice } from './device.errors.js';
import { DevicesRepository } from './devices.repository.js';
import type { OtpAcceptedDto } from './dto/device-responses.dto.js';

/** What never changes for a device: enough to check a code before touching the database. */
type VerificationKey = Pick<Device, 'id' | 'userId' | 'sealedSecret' | 'algorithm' | 'digits' | 'period'>;
const KEY_CACHE_SIZE = 50_000;

const accepted = (deviceId: string): OtpAcceptedDto => ({ status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId });

/**
 * API.md §6: the login step. A code is matched against the device's secret in memory, then one
 * statement decides it on the locked device row (DevicesRepository.attempt): replay refusal,
 * failure count and lockout all live in Postgres, shared by replicas, and hold under concurrency.
 */
@Injectable()
export class VerificationService {
  private readonly keys = new Map<string, VerificationKey>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesRepository,
    private readonly secrets: DeviceSecrets,
    private readonly clock: Clock,
  ) {}

  async verifyDevice(caller: Caller, userId: string, deviceId: string, otp: string): Promise<OtpAcceptedDto> {
    const cacheKey = `${caller.clientId}:${userId}:${deviceId}`;
    let key = this.keys.get(cacheKey);
    if (key === undefined) {
      const device = await this.devices.findForClient(caller.clientId, userId, deviceId);
      if (device === null) throw deviceNotFound();
      key = this.remember(cacheKey, device);
    }
    const now = this.clock.now();
    const result = await this.attempt(caller, key, otp, now);
    switch (result.outcome) {
      case 'ACCEPTED':
        return accepted(deviceId);
      case 'NOT_FOUND':
        this.keys.delete(cacheKey);
        throw deviceNotFound();
      case 'LOCKED':
      case 'LOCKED_NOW':
        throw deviceLocked(result.lockedUntil!, now);
      case 'REJECTED':
        throw invalidOtp();
    }
  }

  /**
   * Tries the user's unlocked active devices and says which one matched. A wrong code is a guess
   * against every device it was tried on, so it counts a failure on each.
   */
  async verifyUser(caller: Caller, userId: string, otp: string): Promise<OtpAcceptedDto> {
    const all = await this.devices.listForUser(caller.clientId, userId, 'primary');
    if (all.length === 0) throw noActiveDevice();
    const now = this.clock.now();
    const lockedUntil = new Map(all.filter((d) => isLocked(d, now)).map((d) => [d.id, d.lockedUntil!]));
    const unlocked = all.filter((d) => !lockedUntil.has(d.id));
    const tried = new Set<string>();
    for (const device of unlocked) {
      if (this.secrets.match(caller.clientId, device.id, device.sealedSecret, device, otp, now) === undefined) continue;
      tried.add(device.id);
      const result = await this.attempt(caller, device, otp, now);
      if (result.outcome === 'ACCEPTED') return accepted(device.id);
      if (result.lockedUntil !== null) lockedUntil.set(device.id, result.lockedUntil);
    }
    const results = await Promise.all(unlocked.filter((d) => !tried.has(d.id)).map(async (d) => [d.id, await this.attempt(caller, d, otp, now)] as const));
    for (const [id, result] of results) if (result.lockedUntil !== null) lockedUntil.set(id, result.lockedUntil);
    // Every device locked now (this code locked the last one): the user cannot verify until a lock ends.
    if (lockedUntil.size === all.length) throw deviceLocked(new Date(Math.min(...[...lockedUntil.values()].map((d) => d.getTime()))), now);
    throw invalidOtp();
  }

  private remember(cacheKey: string, device: Device): VerificationKey {
    if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value!);
    const { id, userId, sealedSecret, algorithm, digits, period } = device;
    const key = { id, userId, sealedSecret, algorithm, digits, period };
    this.keys.set(cacheKey, key);
    return key;
  }

  /** Matches the code in memory, then has the database decide it on the locked row. */
  private async attempt(caller: Caller, key: VerificationKey, otp: string, now: Date): Promise<AttemptResult> {
    const step = this.secrets.match(caller.clientId, key.id, key.sealedSecret, key, otp, now);
    const { lockoutThreshold, lockoutSeconds } = this.config.limits;
    const result = await this.devices.attempt({
      clientId: caller.clientId,
      userId: key.userId,
      id: key.id,
      step: step ?? null,
      now,
      threshold: lockoutThreshold,
      lockSeconds: lockoutSeconds,
      requestId: caller.requestId,
    });
    // RFC 6238 §5.2: a code whose step was already accepted is refused, and answers like a wrong one.
    if (result.replay) this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: key.id }, 'OTP replay refused');
    if (result.outcome === 'LOCKED_NOW') this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: key.id }, 'device locked after repeated failures');
    return result;
  }
}

const isLocked = (d: Device, now: Date): boolean => d.lockedUntil !== null && d.lockedUntil > now;
