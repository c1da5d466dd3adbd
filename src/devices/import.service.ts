import { Injectable } from '@nestjs/common';
import { ClientPolicies } from '../auth/client-policies.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { DomainError, validationError } from '../common/domain-error.js';
import { matchTotp } from '../totp/totp.js';
import { importCandidate } from './device-import.js';
import { DeviceSecrets } from './device-secrets.js';
import { DevicesRepository } from './devices.repository.js';
import { activeLimitReached, deviceNameTaken } from './device.errors.js';
import type { ImportDeviceDto } from './dto/import-device.dto.js';
import type { OtpAcceptedDto } from './dto/device-responses.dto.js';

/** API.md §12: an existing authenticator becomes an ACTIVE device of the user (scope devices:import). */
@Injectable()
export class ImportService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly policies: ClientPolicies,
    private readonly secrets: DeviceSecrets,
    private readonly clock: Clock,
  ) {}

  async importOne(caller: Caller, userId: string, dto: ImportDeviceDto): Promise<OtpAcceptedDto> {
    const policy = await this.policies.forClient(caller.clientId);
    const now = this.clock.now();
    const checked = importCandidate({ ...dto, userId }, { clientId: caller.clientId, policy, secrets: this.secrets, now });
    if ('problems' in checked) throw validationError(checked.problems);
    const { device, externalId, secret } = checked.candidate;
    if (dto.otp !== undefined) {
      // Only an authenticator the user really holds is imported; the code's step is spent.
      const step = matchTotp(secret, device, dto.otp, policy.window, Math.floor(now.getTime() / 1000));
      if (step === undefined) throw new DomainError('INVALID_OTP', 'The OTP does not verify with this secret and its parameters');
      device.lastUsedStep = step;
    }
    const [outcome] = await this.devices.importDevices(caller.clientId, policy.maxActivePerUser, [{ device, externalId }], caller.requestId);
    switch (outcome) {
      case 'IMPORTED':
        return { status: 'SUCCESS', message: 'The device is imported and active', deviceId: device.id };
      case 'EXISTS':
        throw new DomainError('DEVICE_ALREADY_IMPORTED', 'This client has already imported a device with this externalId');
      case 'NAME_TAKEN':
        throw deviceNameTaken();
      case 'LIMIT_REACHED':
      case undefined:
        throw activeLimitReached(policy.maxActivePerUser);
    }
  }
}
