export {
  type ActivatedDevice,
  type AuditEvent,
  type AuditEventsPage,
  type CreatedRegistration,
  type CreateDeviceRequest,
  type Device,
  type DeviceList,
  type OtpAccepted,
  type Page,
  type RecoveryCodesIssued,
  type RecoveryCodesState,
  type RecoveryCodeUsed,
  TotpClient,
  type TotpClientOptions,
} from './client.js';
export { type IdempotencyKeys } from './idempotency.js';
export { type CreatedLoginRequest, type CreateLoginRequest, type LoginRequest, LoginRequests } from './login-requests.js';
export { type ErrorCode, type ErrorEnvelope, type OAuthErrorCode, TotpApiError, TotpTokenError } from './errors.js';
export { type TokenResponse } from './token-provider.js';
export type { components, operations, paths } from './schema.js';
