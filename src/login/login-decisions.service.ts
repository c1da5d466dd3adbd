import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Caller } from '../common/caller.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { LoginDecisionDto, LoginRequestDto } from './dto/login-requests.dto.js';
import { type LoginDecision, statusAt } from './login-request.js';
import { LoginRequestStore } from './login-request.store.js';
import { alreadyRedeemed, decisionBusy, invalidOcraResponse, loginRequestNotFound, notApproved, notPending } from './login.errors.js';
import { LoginProof } from './login-proof.js';
import { toLoginRequestDto } from './login-requests.service.js';

/** Wrong OCRA responses before a login request fails (API.md §11). */
export const LOGIN_MAX_FAILURES = 3;

/**
 * API.md §11: the phone's decision and its redemption. A decision needs a valid OCRA response
 * (approve and deny alike, so nobody without the device can deny a login either). The request's
 * decision lock lets one response be checked at a time, so every wrong one is counted before the
 * next is checked: at most LOGIN_MAX_FAILURES are ever evaluated. The decision itself is one
 * atomic step on a pending, unexpired request: exactly one decision, on any replica.
 */
@Injectable()
export class LoginDecisionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly store: LoginRequestStore,
    private readonly proof: LoginProof,
    private readonly audit: AuditService,
  ) {}

  async decide(caller: Caller, userId: string, requestId: string, decision: LoginDecision, body: LoginDecisionDto): Promise<LoginRequestDto> {
    const { clientId } = caller;
    // Longer than a device read can take (it times out at DEPENDENCY_TIMEOUT_MS), so the lock holds for the whole check.
    const lockMs = 2 * this.config.dependencyTimeoutMs + 1000;
    const claim = await this.store.claim(clientId, userId, requestId, this.clock.nowMs(), lockMs);
    if (claim.status === 'NOT_FOUND') throw loginRequestNotFound();
    if (claim.status === 'BUSY') throw decisionBusy();
    if (claim.status === 'CLOSED') throw notPending(statusAt(claim.request, this.clock.nowMs()));
    let holds: boolean;
    try {
      holds = await this.proof.holds(claim.request, body.deviceId, body.response);
    } catch (error) {
      // Not checked (a dependency failed): nothing is counted, the caller may retry.
      await this.store.release(clientId, requestId, claim.token).catch(() => undefined);
      throw error;
    }
    const deviceId = body.deviceId.toLowerCase();
    const loginRequestId = requestId;
    if (!holds) {
      const outcome = await this.store.fail(clientId, requestId, claim.token, LOGIN_MAX_FAILURES, this.clock.nowMs());
      if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
      if (outcome.status === 'EXPIRED' || outcome.status === 'CLOSED') throw notPending(statusAt(outcome.request, this.clock.nowMs()));
      if (outcome.status === 'DECIDED') {
        await this.audit.recordOrLog({ type: 'LOGIN_FAILED', caller, userId, detail: { loginRequestId, failures: outcome.request.failures } });
      }
      throw invalidOcraResponse(LOGIN_MAX_FAILURES - outcome.request.failures);
    }
    const outcome = await this.store.decide(clientId, requestId, claim.token, decision, deviceId, this.clock.nowMs());
    if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
    if (outcome.status !== 'DECIDED') throw notPending(statusAt(outcome.request, this.clock.nowMs()));
    const type = decision === 'APPROVED' ? 'LOGIN_APPROVED' : 'LOGIN_DENIED';
    await this.audit.recordOrLog({ type, caller, userId, deviceId, detail: { loginRequestId } });
    return toLoginRequestDto(outcome.request, decision);
  }

  /** One approval logs in one session: the first redeem answers 200, every later one 409. */
  async redeem(caller: Caller, userId: string, requestId: string): Promise<LoginRequestDto> {
    const outcome = await this.store.redeem(caller.clientId, userId, requestId, this.clock.nowMs());
    if (outcome.status === 'NOT_FOUND') throw loginRequestNotFound();
    const request = outcome.request;
    if (outcome.status === 'REFUSED') throw request.redeemedAt !== null ? alreadyRedeemed() : notApproved(statusAt(request, this.clock.nowMs()));
    const deviceId = request.decidedBy ?? undefined;
    await this.audit.recordOrLog({ type: 'LOGIN_REDEEMED', caller, userId, deviceId, detail: { loginRequestId: requestId } });
    return toLoginRequestDto(request, 'APPROVED', 'Approved on the phone; this approval is now redeemed');
  }
}
