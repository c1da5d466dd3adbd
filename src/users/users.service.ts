import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { IdempotencyStore } from '../idempotency/idempotency.store.js';
import { LoginRequestsService } from '../login/login-requests.service.js';
import { PendingStore } from '../pending/pending.store.js';
import { RecoveryCodesRepository } from '../recovery/recovery-codes.repository.js';

/** API.md §10: erasing a user (GDPR art. 17) for the calling client. */
@Injectable()
export class UsersService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly store: PendingStore,
    private readonly recovery: RecoveryCodesRepository,
    private readonly audit: AuditService,
    private readonly logins: LoginRequestsService,
    private readonly idempotency: IdempotencyStore,
  ) {}

  /**
   * Devices (and their locks), pending registrations, login requests and their counters, kept
   * answers of Idempotency-Keys used on the user's paths, recovery codes and the user's lock go;
   * the audit trail stays, without device names, and records the erasure. Redis first: if it is
   * away, nothing is erased and the caller retries. Idempotent: erasing a user with nothing left
   * answers the same.
   */
  async erase(caller: Caller, userId: string): Promise<void> {
    const { clientId } = caller;
    const pending = await this.store.listForUser(clientId, userId);
    for (const registration of pending) await this.store.remove(clientId, userId, registration.authId, { evenIfClaimed: true });
    await this.logins.eraseUser(clientId, userId);
    await this.idempotency.eraseUser(clientId, userId);
    const devices = await this.devices.deleteAllForUser(clientId, userId);
    await this.recovery.deleteForUser(clientId, userId);
    await this.audit.forgetDeviceNames(clientId, userId);
    await this.audit.record({ type: 'USER_ERASED', caller, userId, detail: { devices, registrations: pending.length } });
  }
}
