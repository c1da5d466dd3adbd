import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CounterStore } from '../counters/counter.store.js';
import { deviceLocked } from '../devices/device.errors.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import type { LoginDecisionDto, LoginRequestDto } from './dto/login-requests.dto.js';
import { type LoginDecision, statusAt } from './login-request.js';
import { LoginRequestStore } from './login-request.store.js';
import {
  alreadyRedeemed,
  decisionBusy,
  invalidOcraResponse,
  loginRequestNotFound,
  notApproved,
  notPending,
  tooManyWrongResponses,
} from './login.errors.js';
import { LoginProof } from './login-proof.js';
import { loginCounters, toLoginRequestDto } from './login-requests.service.js';

/** Wrong OCRA responses before a login request fails (API.md §11). */
export const LOGIN_MAX_FAILURES = 3;

/**
 * API.md §11: the phone's decision and its redemption. A decision needs a valid OCRA response
 * (approve and deny alike, so nobody without the device can deny a login either). Two limits hold
 * under any concurrency, on any replica: the request's decision lock lets one response be checked
 * at a time, so at most LOGIN_MAX_FAILURES wrong ones are evaluated per request; and every check
 * first reserves one of the user's LOCKOUT_THRESHOLD wrong-response slots per LOCKOUT_SECONDS
 * (given back when the response is right), so new requests do not buy new guesses. The decision
 * itself is one atomic step on a pending, unexpired request: exactly one decision.
 */
@Injectable()
export class LoginDecisionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly store: LoginRequestStore,
    private readonly proof: LoginProof,
    private readonly counters: CounterStore,
    private readonly devices: DevicesRepository,
    private readonly audit: AuditService,
  ) {}

  async decide(caller: Caller, userId: string, requestId: string, decision: LoginDecision, body: LoginDecisionDto): Promise<LoginRequestDto> {
    const { clientId } = caller;
    const { lockoutThreshold, lockoutSeconds } = this.config.limits;
    // Longer than a device read can take (it times out at DEPENDENCY_TIMEOUT_MS), so the lock holds for the whole check.
    const lockMs = 2 * this.config.dependencyTimeoutMs + 1000;
    const claim = await this.store.claim(clientId, userId, requestId, this.clock.nowMs(), lockMs);
    if (claim.status === 'NOT_FOUND') throw loginRequestNotFound();
    if (claim.status === 'BUSY') throw decisionBusy();
    if (claim.status === 'CLOSED') throw notPending(statusAt(claim.request, this.clock.nowMs()));
    const { guesses } = loginCounters(clientId, userId);
    let check: Awaited<ReturnType<LoginProof['check']>>;
    try {
      const slot = await this.counters.reserve(guesses, lockoutThreshold, lockoutSeconds * 1000);
      if (!slot.granted) throw tooManyWrongResponses(new Date(this.clock.nowMs() + slot.resetInMs), slot.resetInMs);
      check = await this.proof.check(claim.request, body.deviceId, body.response, this.clock.now());
      if (check !== 'WRONG') await this.counters.release(guesses);
      if (typeof check === 'object') throw deviceLocked(check.lockedUntil, this.clock.now());
    } catch (error) {
      // Not counted against the request (refused before a check, or a dependency failed): the caller may retry.
      await this.store.release(clientId, requestId, claim.token).catch(() => undefined);
      throw error;
    }
    const loginRequestId = requestId;
    if (check === 'WRONG') {
      const outcome = await this.store.fail(clientId, requestId, claim.token, LOGIN_MAX_FAILURES, this.clock.nowMs());
      if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
      if (outcome.status === 'EXPIRED' || outcome.status === 'CLOSED') throw notPending(statusAt(outcome.request, this.clock.nowMs()));
      if (outcome.status === 'DECIDED') {
        await this.audit.recordOrLog({ type: 'LOGIN_FAILED', caller, userId, detail: { loginRequestId, failures: outcome.request.failures } });
      }
      throw invalidOcraResponse(LOGIN_MAX_FAILURES - outcome.request.failures);
    }
    const deviceId = body.deviceId.toLowerCase();
    const outcome = await this.store.decide(clientId, requestId, claim.token, decision, deviceId, this.clock.nowMs());
    if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
    if (outcome.status !== 'DECIDED') throw notPending(statusAt(outcome.request, this.clock.nowMs()));
    const type = decision === 'APPROVED' ? 'LOGIN_APPROVED' : 'LOGIN_DENIED';
    await this.audit.recordOrLog({ type, caller, userId, deviceId, detail: { loginRequestId } });
    return toLoginRequestDto(outcome.request, decision);
  }

  /**
   * One approval logs in one session: the first redeem answers 200, every later one 409. The
   * approving device must still exist: a device deleted (or a user erased) since then logs no one in.
   */
  async redeem(caller: Caller, userId: string, requestId: string): Promise<LoginRequestDto> {
    const current = await this.store.get(caller.clientId, userId, requestId);
    if (current === undefined) throw loginRequestNotFound();
    if (
      current.decidedBy !== null &&
      current.state === 'APPROVED' &&
      !(await this.devices.existsForClient(caller.clientId, userId, current.decidedBy))
    ) {
      throw loginRequestNotFound();
    }
    const outcome = await this.store.redeem(caller.clientId, userId, requestId, this.clock.nowMs());
    if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
    const request = outcome.request;
    if (outcome.status === 'REFUSED') throw request.redeemedAt !== null ? alreadyRedeemed() : notApproved(statusAt(request, this.clock.nowMs()));
    const deviceId = request.decidedBy ?? undefined;
    await this.audit.recordOrLog({ type: 'LOGIN_REDEEMED', caller, userId, deviceId, detail: { loginRequestId: requestId } });
    return toLoginRequestDto(request, 'APPROVED', 'Approved on the phone; this approval is now redeemed');
  }
}
