import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DeviceSecrets } from '../devices/device-secrets.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import type { LoginRequest } from './login-request.js';
import { ocraResponse, parseSuite } from './ocra.js';

/**
 * The suite every login request advertises: HMAC-SHA256 (whatever the device's TOTP algorithm:
 * the key is the same, and the OCRA input starts with the suite text, so it never collides with
 * a TOTP input), 8 digits (3 guesses per request at 10^-8 each), and a 160-bit random hex
 * question, so no challenge ever comes back and an observed response is worth nothing later.
 */
export const LOGIN_OCRA_SUITE = 'OCRA-1:HOTP-SHA256-8:QH40';
const SUITE = parseSuite(LOGIN_OCRA_SUITE);

/** Checks a phone's OCRA response (RFC 6287) against one of the user's active devices. */
@Injectable()
export class LoginProof {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly secrets: DeviceSecrets,
  ) {}

  /**
   * HOLDS when `response` is the device's answer to the request's challenge; LOCKED when the
   * device is locked (too many wrong codes: it proves nothing until the lock ends).
   */
  async check(request: LoginRequest, deviceId: string, response: string, now: Date): Promise<'HOLDS' | 'WRONG' | { lockedUntil: Date }> {
    if (request.boundDeviceId !== null && request.boundDeviceId !== deviceId.toLowerCase()) return 'WRONG';
    const device = await this.devices.findForClient(request.clientId, request.userId, deviceId);
    if (device === null) return 'WRONG';
    if (device.lockedUntil !== null && device.lockedUntil > now) return { lockedUntil: device.lockedUntil };
    const key = this.secrets.open(request.clientId, device.id, device.sealedSecret);
    const expected = Buffer.from(ocraResponse(SUITE, key, { question: request.challenge }));
    const given = Buffer.from(response);
    return given.length === expected.length && timingSafeEqual(given, expected) ? 'HOLDS' : 'WRONG';
  }
}
