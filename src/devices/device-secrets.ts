import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SecretBox } from '../totp/secret-box.js';
import { matchTotp, type TotpPolicy } from '../totp/totp.js';

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

  /** The matched time step, or undefined. The window is the device's (its client's policy), else TOTP_WINDOW. */
  match(
    clientId: string,
    deviceId: string,
    sealed: string,
    policy: TotpPolicy & { window?: number | null },
    otp: string,
    now: Date,
  ): number | undefined {
    const window = policy.window ?? this.config.totp.window;
    return matchTotp(this.open(clientId, deviceId, sealed), policy, otp, window, Math.floor(now.getTime() / 1000));
  }
}
