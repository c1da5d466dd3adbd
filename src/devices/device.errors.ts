import { DomainError } from '../common/domain-error.js';

export const registrationNotFound = () =>
  new DomainError('REGISTRATION_NOT_FOUND', 'No pending registration with this authId (unknown, expired or already used)');
export const deviceNotFound = () => new DomainError('DEVICE_NOT_FOUND', 'No device with this id for this user');
export const noActiveDevice = () => new DomainError('DEVICE_NOT_FOUND', 'The user has no active device');
export const unsupportedDeviceType = () => new DomainError('UNSUPPORTED_DEVICE_TYPE', 'deviceType must be TOTP');
export const deviceNameTaken = () => new DomainError('DEVICE_NAME_TAKEN', 'The user already has an active device with this name');
export const deviceLimitReached = (what: string) => new DomainError('DEVICE_LIMIT_REACHED', what);
export const activeLimitReached = (max: number) => deviceLimitReached(`A user may have at most ${max} active devices`);
export const alreadyActive = () => new DomainError('ALREADY_ACTIVE', 'This device is already activated');
export const activationInProgress = () =>
  new DomainError('ACTIVATION_IN_PROGRESS', 'Another activation of this registration is in progress; retry in a moment', { retryAfterSeconds: 1 });
export const invalidOtp = (remainingAttempts?: number) =>
  new DomainError('INVALID_OTP', 'The OTP is not valid', remainingAttempts === undefined ? {} : { extra: { remainingAttempts } });
export const tooManyAttempts = () => new DomainError('TOO_MANY_ATTEMPTS', 'Too many wrong OTPs: the registration was destroyed; create a new one');
export const deviceLocked = (until: Date, now: Date) =>
  new DomainError('DEVICE_LOCKED', 'Too many failed verifications: the device is locked', {
    retryAfterSeconds: (until.getTime() - now.getTime()) / 1000,
    extra: { lockedUntil: until.toISOString() },
  });
/** More verifications of one device (or user) at once than could be decided before it locks. */
export const tooManyAtOnce = () =>
  new DomainError('RATE_LIMITED', 'Too many verifications of this device or user at once; retry shortly', { retryAfterSeconds: 1 });
export const rateLimited = (retryAfterMs: number) =>
  new DomainError('RATE_LIMITED', 'Too many requests for this client; slow down', {
    retryAfterSeconds: retryAfterMs / 1000,
  });
/** A registration stored before today's rules (a name the database refuses): rename it, then activate; each try counts. */
export const invalidRegistrationData = () =>
  new DomainError('VALIDATION_FAILED', 'The request is not valid', {
    errors: [{ field: 'deviceName', message: 'The stored deviceName is not valid: rename it (PATCH), then activate (each try is an attempt)' }],
  });
export const otpLength = (digits: number) =>
  new DomainError('VALIDATION_FAILED', 'The request is not valid', {
    errors: [{ field: 'otp', message: `otp must be ${digits} digits` }],
  });
