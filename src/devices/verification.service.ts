import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from 'pino';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AttemptResult } from './device-batches.js';
import { driftBound } from '../totp/totp.js';
import { DeviceSecrets } from './device-secrets.js';
import type { Device } from './device.js';
import { deviceLocked, deviceNotFound, invalidOtp, noActiveDevice, tooManyAtOnce } from './device.errors.js';
import { DevicesRepository } from './devices.repository.js';
import type { OtpAcceptedDto } from './dto/device-responses.dto.js';
import { InFlightGate } from '../common/in-flight-gate.js';

/** What never changes for a device (enough to check a code before touching the database), and a lock seen on it. */
type VerificationKey = Pick<Device, 'id' | 'userId' | 'sealedSecret' | 'algorithm' | 'digits' | 'period' | 'window' | 'drift'> & {
  lockedUntil?: Date;
};
const KEY_CACHE_SIZE = 50_000;

/** One decided code as the API answers it: `ok` when accepted, the error otherwise. */
function answerOf(result: AttemptResult, now: Date, ok: OtpAcceptedDto): OtpAcceptedDto {
  switch (result.outcome) {
    case 'ACCEPTED':
      return ok;
    case 'NOT_FOUND':
      throw deviceNotFound();
    case 'LOCKED':
    case 'LOCKED_NOW':
      throw deviceLocked(result.lockedUntil!, now);
    case 'REJECTED':
      throw invalidOtp();
  }
}

const accepted = (deviceId: string): OtpAcceptedDto => ({ status: 'SUCCESS', message: 'OTP has been validated successfully', deviceId });

/**
 * API.md §6: the login step. A code is matched against the device's secret in memory, then one
 * statement decides it on the locked device row (attempt.sql.ts): replay refusal, failure count and
 * lockout all live in Postgres, shared by replicas, and hold under concurrency. Two shortcuts keep
 * floods away from the database: a lock this replica has seen refuses until it ends, and at most
 * LOCKOUT_THRESHOLD attempts per device (or user) are in flight here at once (no more could be
 * decided before the lock anyway).
 */
@Injectable()
export class VerificationService {
  private readonly keys = new Map<string, VerificationKey>();
  private readonly gate: InFlightGate;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesRepository,
    private readonly secrets: DeviceSecrets,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    this.gate = new InFlightGate(config.limits.lockoutThreshold);
  }

  async verifyDevice(caller: Caller, userId: string, deviceId: string, otp: string): Promise<OtpAcceptedDto> {
    const cacheKey = `${caller.clientId}:${userId}:${deviceId}`;
    const answer = await this.gate.run(`device:${cacheKey}`, () => this.verifyOne(caller, userId, deviceId, cacheKey, otp));
    if (answer === undefined) throw tooManyAtOnce();
    return answer;
  }

  private async verifyOne(caller: Caller, userId: string, deviceId: string, cacheKey: string, otp: string): Promise<OtpAcceptedDto> {
    let key = this.keys.get(cacheKey);
    if (key === undefined) {
      const device = await this.devices.findForClient(caller.clientId, userId, deviceId);
      if (device === null) throw deviceNotFound();
      key = this.remember(cacheKey, device);
    }
    const now = this.clock.now();
    if (key.lockedUntil !== undefined && key.lockedUntil > now) {
      this.metrics.verification('locked');
      throw deviceLocked(key.lockedUntil, now);
    }
    const result = await this.attempt(caller, key, otp, now);
    if (result.lockedUntil !== null) key.lockedUntil = result.lockedUntil;
    if (result.outcome === 'NOT_FOUND') this.keys.delete(cacheKey);
    return answerOf(result, now, accepted(deviceId));
  }

  /**
   * API.md §12: two consecutive codes up to ±10 minutes away re-centre the device's window on its
   * drift. A failure counts towards the lockout like any wrong code.
   */
  async resync(caller: Caller, userId: string, deviceId: string, first: string, second: string): Promise<OtpAcceptedDto> {
    const device = await this.devices.findForClient(caller.clientId, userId, deviceId);
    if (device === null) throw deviceNotFound();
    const now = this.clock.now();
    if (device.lockedUntil !== null && device.lockedUntil > now) throw deviceLocked(device.lockedUntil, now);
    const step = this.secrets.consecutive(caller.clientId, device.id, device.sealedSecret, device, first, second, now);
    const result = await this.attempt(caller, device, second, now, { step: step ?? null, resync: true });
    // Its drift moved: this replica's cached copy must not centre the next code on the old one.
    this.keys.delete(`${caller.clientId}:${userId}:${deviceId}`);
    return answerOf(result, now, { status: 'SUCCESS', message: 'The device is resynchronised', deviceId: device.id });
  }

  /**
   * Tries the user's unlocked active devices and says which one matched. A wrong code is a guess
   * against every device it was tried on, so it counts a failure on each.
   */
  async verifyUser(caller: Caller, userId: string, otp: string): Promise<OtpAcceptedDto> {
    const answer = await this.gate.run(`user:${caller.clientId}:${userId}`, () => this.verifyAny(caller, userId, otp));
    if (answer === undefined) throw tooManyAtOnce();
    return answer;
  }

  private async verifyAny(caller: Caller, userId: string, otp: string): Promise<OtpAcceptedDto> {
    const all = await this.devices.listForUser(caller.clientId, userId, 'primary');
    if (all.length === 0) throw noActiveDevice();
    const now = this.clock.now();
    const lockedUntil = new Map(all.filter((d) => d.lockedUntil !== null && d.lockedUntil > now).map((d) => [d.id, d.lockedUntil!]));
    const unlocked = all.filter((d) => !lockedUntil.has(d.id));
    if (unlocked.length === 0) this.metrics.verification('locked');
    const tried = new Set<string>();
    for (const device of unlocked) {
      // Only around each device's drift: it was just read, so it is current (no wide search per device).
      const step = this.secrets.match(caller.clientId, device.id, device.sealedSecret, device, otp, now);
      if (step === undefined) continue;
      tried.add(device.id);
      const result = await this.attempt(caller, device, otp, now, { step });
      if (result.outcome === 'ACCEPTED') return accepted(device.id);
      if (result.lockedUntil !== null) lockedUntil.set(device.id, result.lockedUntil);
    }
    const results = await Promise.all(
      unlocked.filter((d) => !tried.has(d.id)).map(async (d) => [d.id, await this.attempt(caller, d, otp, now, { step: null })] as const),
    );
    for (const [id, result] of results) if (result.lockedUntil !== null) lockedUntil.set(id, result.lockedUntil);
    // Every device locked now (this code locked the last one): the user cannot verify until a lock ends.
    if (lockedUntil.size === all.length) throw deviceLocked(new Date(Math.min(...[...lockedUntil.values()].map((d) => d.getTime()))), now);
    throw invalidOtp();
  }

  private remember(cacheKey: string, device: Device): VerificationKey {
    if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value!);
    const { id, userId, sealedSecret, algorithm, digits, period, window, drift } = device;
    const key = { id, userId, sealedSecret, algorithm, digits, period, window, drift };
    this.keys.set(cacheKey, key);
    return key;
  }

  /**
   * Matches the code in memory (around the drift this replica knows; if that fails, over the whole
   * drift bound, as another replica may have moved it), then has the database decide it on the
   * locked row, against the device's current drift.
   */
  private async attempt(
    caller: Caller,
    key: Omit<VerificationKey, 'lockedUntil'>,
    otp: string,
    now: Date,
    given: { step?: number | null; resync?: boolean } = {},
  ): Promise<AttemptResult> {
    const match = (wide: boolean) => this.secrets.match(caller.clientId, key.id, key.sealedSecret, key, otp, now, wide);
    // A wrong code costs the wide search (~40 HMACs) only here, where the lockout bounds them per device.
    const step = given.step !== undefined ? (given.step ?? undefined) : (match(false) ?? match(true));
    const { lockoutThreshold, lockoutSeconds } = this.config.limits;
    const nowStep = Math.floor(now.getTime() / 1000 / key.period);
    const result = await this.devices.attempt({
      clientId: caller.clientId,
      userId: key.userId,
      id: key.id,
      step: step ?? null,
      now,
      nowStep,
      window: this.secrets.windowOf(key),
      maxDrift: driftBound(key.period),
      resync: given.resync === true,
      threshold: lockoutThreshold,
      lockSeconds: lockoutSeconds,
      requestId: caller.requestId,
    });
    if (result.outcome === 'ACCEPTED' && step !== undefined)
      key.drift = Math.max(-driftBound(key.period), Math.min(driftBound(key.period), step - nowStep));
    // RFC 6238 §5.2: a code whose step was already accepted is refused, and answers like a wrong one.
    if (result.replay) this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: key.id }, 'OTP replay refused');
    if (result.outcome === 'LOCKED_NOW')
      this.logger.warn({ reqId: caller.requestId, clientId: caller.clientId, deviceId: key.id }, 'device locked after repeated failures');
    this.count(result);
    return result;
  }

  /** A decided code in the metrics: ok, invalid, replay or locked; and a lock set just now. */
  private count(result: AttemptResult): void {
    if (result.outcome === 'NOT_FOUND') return;
    this.metrics.verification(result.outcome === 'ACCEPTED' ? 'ok' : result.outcome === 'LOCKED' ? 'locked' : result.replay ? 'replay' : 'invalid');
    if (result.outcome === 'LOCKED_NOW') this.metrics.lockout('device');
  }
}
