import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DeviceSecrets } from './device-secrets.js';
import type { DeviceEntity } from './device.entity.js';
import { deviceLocked, deviceNotFound, invalidOtp, noActiveDevice } from './device.errors.js';
import { DevicesRepository } from './devices.repository.js';
import type { OtpAcceptedDto } from './dto/device-responses.dto.js';

/** What never changes for a device: enough to check a code before touching the database. */
type VerificationKey = Pick<DeviceEntity, 'userId' | 'sealedSecret' | 'algorithm' | 'digits' | 'period'>;
const KEY_CACHE_SIZE = 50_000;

const accepted = (deviceId: string): OtpAcceptedDto => ({ status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId });

/** API.md §6: the login step, with replay refusal and lockout kept in Postgres (shared by replicas). */
@Injectable()
export class VerificationService {
  private readonly keys = new Map<string, VerificationKey>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesRepository,
    private readonly secrets: DeviceSecrets,
    private readonly audit: AuditService,
  ) {}

  async verifyDevice(caller: Caller, userId: string, deviceId: string, otp: string): Promise<OtpAcceptedDto> {
    // Fast path: with the device's (sealed) secret already known, a right code costs one statement,
    // the conditional UPDATE, which itself refuses a deleted, locked or replayed device. Anything
    // else takes the full path below, which reads the device and tells those cases apart.
    const key = this.keys.get(`${caller.clientId}:${userId}:${deviceId}`);
    if (key !== undefined) {
      const now = new Date();
      const step = this.secrets.match(caller.clientId, deviceId, key.sealedSecret, key, otp, now);
      const verified = this.audit.prepare({ type: 'OTP_VERIFIED', caller, userId, deviceId });
      if (step !== undefined && (await this.devices.consumeStep(deviceId, step, now, verified))) return accepted(deviceId);
    }
    const device = await this.devices.findForClient(caller.clientId, userId, deviceId);
    if (device === null) throw deviceNotFound();
    this.remember(caller.clientId, device);
    const now = new Date();
    if (isLocked(device, now)) throw deviceLocked(device.lockedUntil!);
    if (await this.tryAccept(caller, device, otp, now)) return accepted(device.id);
    const lockedUntil = await this.fail(caller, device, now);
    throw lockedUntil === undefined ? invalidOtp() : deviceLocked(lockedUntil);
  }

  /** Tries each of the user's unlocked active devices and says which one matched. */
  async verifyUser(caller: Caller, userId: string, otp: string): Promise<OtpAcceptedDto> {
    const all = await this.devices.listForUser(caller.clientId, userId);
    if (all.length === 0) throw noActiveDevice();
    const now = new Date();
    const unlocked = all.filter((d) => !isLocked(d, now));
    if (unlocked.length === 0) throw deviceLocked(new Date(Math.min(...all.map((d) => d.lockedUntil!.getTime()))));
    for (const device of unlocked) {
      if (await this.tryAccept(caller, device, otp, now)) return accepted(device.id);
    }
    // A wrong code is a guess against every device it was tried on.
    const locks = await Promise.all(unlocked.map((d) => this.fail(caller, d, now)));
    if (locks.every((l) => l !== undefined) && locks.length === all.length) throw deviceLocked(locks[0]);
    throw invalidOtp();
  }

  private remember(clientId: string, device: DeviceEntity): void {
    if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value!);
    const { userId, sealedSecret, algorithm, digits, period } = device;
    this.keys.set(`${clientId}:${userId}:${device.id}`, { userId, sealedSecret, algorithm, digits, period });
  }

  /** true when the code matches a step later than the last accepted one, which it then consumes. */
  private async tryAccept(caller: Caller, device: DeviceEntity, otp: string, now: Date): Promise<boolean> {
    const step = this.secrets.match(caller.clientId, device.id, device.sealedSecret, device, otp, now);
    if (step === undefined) return false;
    const verified = this.audit.prepare({ type: 'OTP_VERIFIED', caller, userId: device.userId, deviceId: device.id });
    if (await this.devices.consumeStep(device.id, step, now, verified)) return true;
    // RFC 6238 §5.2: a code whose step was already accepted is refused, and answers like a wrong one.
    this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: device.id }, 'OTP replay refused');
    await this.audit.record({ type: 'REPLAY_REFUSED', caller, userId: device.userId, deviceId: device.id });
    return false;
  }

  /** Counts the failure; returns the lock end when this failure locked the device. */
  private async fail(caller: Caller, device: DeviceEntity, now: Date): Promise<Date | undefined> {
    const { lockoutThreshold, lockoutSeconds } = this.config.limits;
    const result = await this.devices.recordFailure(device.id, lockoutThreshold, lockoutSeconds, now);
    await this.audit.record({ type: 'VERIFICATION_FAILED', caller, userId: device.userId, deviceId: device.id });
    if (result?.lockedUntil === null || result === undefined || result.lockedUntil <= now) return undefined;
    await this.audit.record({ type: 'DEVICE_LOCKED', caller, userId: device.userId, deviceId: device.id, detail: { lockedUntil: result.lockedUntil.toISOString() } });
    this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: device.id }, 'device locked after repeated failures');
    return result.lockedUntil;
  }
}

const isLocked = (d: DeviceEntity, now: Date): boolean => d.lockedUntil !== null && d.lockedUntil > now;
