import { DomainError } from '../common/domain-error.js';

export const invalidRecoveryCode = () => new DomainError('INVALID_RECOVERY_CODE', 'The recovery code is not valid (unknown or already used)');
export const userLocked = (until: Date, now: Date) =>
  new DomainError('USER_LOCKED', 'Too many wrong recovery codes: the user is locked', {
    retryAfterSeconds: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)),
    extra: { lockedUntil: until.toISOString() },
  });
/** More verifications of one user at once than could be decided before the lock. */
export const tooManyAtOnce = () =>
  new DomainError('RATE_LIMITED', 'Too many recovery-code verifications of this user at once; retry shortly', { retryAfterSeconds: 1 });
