import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SecretBox } from '../totp/secret-box.js';
import { driftBound, matchTotp, type TotpPolicy } from '../totp/totp.js';

/** What matching a code needs of a device or registration. */
export type DevicePolicy = TotpPolicy & { window?: number | null; drift?: number };

/**
 * Seals and checks device secrets. The associated data binds a sealed secret to its client and
 * device id: a registration and the device it becomes share the id, so the sealed value moves
 * from Redis to Postgres unchanged, and cannot be pasted onto another device.
 */
@Injectable()
export class DeviceSecrets {
  constructor(
    private readonly box: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private static aad = (clientId: string, deviceId: string) => `totp-secret:${clientId}:${deviceId}`;

  seal(clientId: string, deviceId: string, secret: Buffer): string {
    return this.box.seal(secret, DeviceSecrets.aad(clientId, deviceId));
  }

  open(clientId: string, deviceId: string, sealed: string): Buffer {
    return this.box.open(sealed, DeviceSecrets.aad(clientId, deviceId));
  }

  keyIdOf(sealed: string): string {
    return this.box.keyIdOf(sealed);
  }

  /**
   * The matched time step, or undefined. The window is the device's (its client's policy), else
   * TOTP_WINDOW, centred on the device's drift; `wide` searches the whole drift bound instead
   * (±10 minutes around now), for a device whose drift moved since it was read.
   */
  match(clientId: string, deviceId: string, sealed: string, policy: DevicePolicy, otp: string, now: Date, wide = false): number | undefined {
    const window = this.windowOf(policy);
    const seconds = Math.floor(now.getTime() / 1000);
    const secret = this.open(clientId, deviceId, sealed);
    if (wide) return matchTotp(secret, policy, otp, window + driftBound(policy.period), seconds);
    return matchTotp(secret, policy, otp, window, seconds + (policy.drift ?? 0) * policy.period);
  }

  windowOf(policy: DevicePolicy): number {
    return policy.window ?? this.config.totp.window;
  }

  /**
   * Resynchronisation: the step of `second` when `first` and `second` are the codes of two
   * consecutive steps within ±10 minutes of now.
   */
  consecutive(
    clientId: string,
    deviceId: string,
    sealed: string,
    policy: DevicePolicy,
    first: string,
    second: string,
    now: Date,
  ): number | undefined {
    const secret = this.open(clientId, deviceId, sealed);
    const step = matchTotp(secret, policy, first, driftBound(policy.period), Math.floor(now.getTime() / 1000));
    if (step === undefined) return undefined;
    return matchTotp(secret, policy, second, 0, (step + 1) * policy.period) === undefined ? undefined : step + 1;
  }
}
