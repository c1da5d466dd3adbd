import { DomainError } from '../common/domain-error.js';
import type { LoginStatus } from './login-request.js';

export const loginRequestNotFound = () =>
  new DomainError('LOGIN_REQUEST_NOT_FOUND', 'No login request with this id for this user (unknown, or past its retention)');
export const invalidOcraResponse = (remainingAttempts: number) =>
  new DomainError(
    'INVALID_OCRA_RESPONSE',
    remainingAttempts > 0
      ? 'The OCRA response does not prove this device'
      : 'The OCRA response does not prove this device; the login request has failed',
    { extra: { remainingAttempts } },
  );
export const notPending = (status: LoginStatus) =>
  new DomainError('LOGIN_REQUEST_NOT_PENDING', `The login request is ${status}, no longer pending`, { extra: { loginStatus: status } });
export const decisionBusy = () =>
  new DomainError('LOGIN_REQUEST_BUSY', 'Another decision on this login request is being checked; retry in a moment', { retryAfterSeconds: 1 });
export const notApproved = (status: LoginStatus) =>
  new DomainError('LOGIN_REQUEST_NOT_APPROVED', `The login request is ${status}, not approved`, { extra: { loginStatus: status } });
export const alreadyRedeemed = () => new DomainError('ALREADY_REDEEMED', 'This approval has already been redeemed');
export const tooManyLoginRequests = (retryAfterSeconds: number) =>
  new DomainError('RATE_LIMITED', 'Too many login requests for this user; retry later', { retryAfterSeconds });
export const tooManyWrongResponses = (until: Date, retryAfterMs: number) =>
  new DomainError('USER_LOCKED', 'Too many wrong OCRA responses for this user: no response is checked until the lock ends', {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    extra: { lockedUntil: until.toISOString() },
  });
