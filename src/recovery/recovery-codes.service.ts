import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '../observability/metrics.js';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { validationError } from '../common/domain-error.js';
import { InFlightGate } from '../common/in-flight-gate.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SecretBox } from '../totp/secret-box.js';
import type { RecoveryCodesIssuedDto, RecoveryCodesStateDto, RecoveryCodeUsedDto } from './dto/recovery-codes.dto.js';
import { CODES_PER_SET, newRecoveryCode, normalizeRecoveryCode, RecoveryCodeHasher } from './recovery-codes.js';
import { RecoveryCodesRepository } from './recovery-codes.repository.js';
import { invalidRecoveryCode, tooManyAtOnce, userLocked } from './recovery.errors.js';

/** The detail of RECOVERY_CODE_FAILED for a code used before (counted as a wrong one is). */
const SPENT = { reason: 'already used' };

/** API.md §10: issue, verify, regenerate recovery codes and read their state. */
@Injectable()
export class RecoveryCodesService {
  private readonly hasher: RecoveryCodeHasher;
  /** No more attempts in flight per user than could be decided before the lock: a flood is refused here (429), not queued for Postgres. */
  private readonly gate: InFlightGate;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly codes: RecoveryCodesRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    box: SecretBox,
  ) {
    this.hasher = new RecoveryCodeHasher(box);
    this.gate = new InFlightGate(config.limits.lockoutThreshold);
  }

  /**
   * After an activation: the user's first set, when they have none yet (one set however many
   * activations run at once). Never fails the activation: if the set cannot be stored, the
   * activation answers without codes and POST …/recovery-codes issues them.
   */
  async issueOnFirstActivation(caller: Caller, userId: string): Promise<string[] | undefined> {
    try {
      return await this.issue(caller, userId, true, true);
    } catch (error) {
      this.logger.warn({ err: error, reqId: caller.requestId }, 'activated a device, but could not issue its recovery codes');
      return undefined;
    }
  }

  async regenerate(caller: Caller, userId: string): Promise<RecoveryCodesIssuedDto> {
    const recoveryCodes = (await this.issue(caller, userId, false, false))!;
    return { status: 'SUCCESS', message: 'New recovery codes: show them once; the old ones no longer work', recoveryCodes };
  }

  async verify(caller: Caller, userId: string, input: string): Promise<RecoveryCodeUsedDto> {
    const code = normalizeRecoveryCode(input);
    if (code === undefined)
      throw validationError([{ field: 'code', message: 'code must be 10 characters of Crockford base32 (dashes and spaces allowed)' }]);
    const answer = await this.gate.run(`${caller.clientId}:${userId}`, () => this.decide(caller, userId, code));
    if (answer === undefined) throw tooManyAtOnce();
    return answer;
  }

  private async decide(caller: Caller, userId: string, code: string): Promise<RecoveryCodeUsedDto> {
    const now = this.clock.now();
    const { clientId } = caller;
    const { lockoutThreshold: threshold, lockoutSeconds: seconds } = this.config.limits;
    const outcome = await this.codes.verify(clientId, userId, (keyId) => this.hasher.hash(keyId, clientId, userId, code), now, {
      threshold,
      seconds,
    });
    // The outcome is committed: the caller gets it even if its event cannot be written.
    switch (outcome.status) {
      case 'USED':
        await this.audit.recordOrLog({ type: 'RECOVERY_CODE_USED', caller, userId, detail: { remainingCodes: outcome.remainingCodes } });
        return { status: 'SUCCESS', message: 'The recovery code is valid; it cannot be used again', remainingCodes: outcome.remainingCodes };
      case 'SPENT':
        await this.audit.recordOrLog({ type: 'RECOVERY_CODE_FAILED', caller, userId, detail: SPENT });
        throw invalidRecoveryCode();
      case 'WRONG':
        await this.audit.recordOrLog({ type: 'RECOVERY_CODE_FAILED', caller, userId });
        throw invalidRecoveryCode();
      case 'NO_CODES':
        // Nothing to guess and nothing counted: not worth an event per request.
        throw invalidRecoveryCode();
      case 'LOCKED':
        if (outcome.lockedNow) {
          this.metrics.lockout('user');
          await this.audit.recordOrLog({ type: 'RECOVERY_CODE_FAILED', caller, userId, detail: outcome.spent === true ? SPENT : undefined });
          await this.audit.recordOrLog({ type: 'USER_LOCKED', caller, userId, detail: { lockedUntil: outcome.until.toISOString() } });
        }
        throw userLocked(outcome.until, now);
    }
  }

  /** An event of a change already committed: its loss (Postgres failing just now) is logged, and does not change the answer. */
  async state(caller: Caller, userId: string): Promise<RecoveryCodesStateDto> {
    const state = await this.codes.state(caller.clientId, userId);
    return {
      status: 'SUCCESS',
      message: state === undefined ? 'The user has no recovery codes' : `${state.remainingCodes} recovery code(s) left`,
      remainingCodes: state?.remainingCodes ?? 0,
      createdAt: state?.createdAt.toISOString() ?? null,
      lastUsedAt: state?.lastUsedAt?.toISOString() ?? null,
    };
  }

  private async issue(caller: Caller, userId: string, firstOnly: boolean, whileDeviceExists: boolean): Promise<string[] | undefined> {
    const recoveryCodes = Array.from({ length: CODES_PER_SET }, newRecoveryCode);
    const keyId = this.hasher.currentKeyId;
    const hashes = recoveryCodes.map((c) => this.hasher.hash(keyId, caller.clientId, userId, normalizeRecoveryCode(c)!)!);
    const stored = await this.codes.storeSet({
      clientId: caller.clientId,
      userId,
      keyId,
      hashes,
      now: this.clock.now(),
      firstOnly,
      whileDeviceExists,
    });
    if (!stored) return undefined;
    await this.audit.recordOrLog({ type: 'RECOVERY_CODES_ISSUED', caller, userId, detail: { count: CODES_PER_SET } });
    return recoveryCodes;
  }
}
