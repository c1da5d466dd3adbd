/** What the phone shows the user before they approve (all optional, set by the web app's backend). */
export interface LoginDisplay {
  message?: string;
  ip?: string;
  userAgent?: string;
}

/** The states stored; EXPIRED is not stored but read off the clock (statusAt). */
export type StoredLoginState = 'PENDING' | 'APPROVED' | 'DENIED' | 'FAILED';
export type LoginStatus = StoredLoginState | 'EXPIRED';
export type LoginDecision = 'APPROVED' | 'DENIED';

/** A login request waiting for the phone (API.md §11), shared by the replicas through its store. */
export interface LoginRequest {
  requestId: string;
  clientId: string;
  userId: string;
  /** The device that must answer, when the request was bound to one. */
  boundDeviceId: string | null;
  /** Hex, the OCRA question. Not a secret: it is in the QR code. */
  challenge: string;
  ocraSuite: string;
  display: LoginDisplay;
  createdAt: number;
  expiresAt: number;
  state: StoredLoginState;
  /** Wrong OCRA responses so far. */
  failures: number;
  /** The device whose response decided the request. */
  decidedBy: string | null;
  decidedAt: number | null;
  redeemedAt: number | null;
}

/** A pending request past its expiry is EXPIRED: no decision lands after expiresAt. */
export const statusAt = (request: LoginRequest, nowMs: number): LoginStatus =>
  request.state === 'PENDING' && nowMs >= request.expiresAt ? 'EXPIRED' : request.state;

/**
 * The QR code's content, for the organisation's app: which request, whose, the OCRA question and
 * suite, and the issuer to show. A URI, so that the operating system can hand it to the app.
 */
export function qrPayload(request: LoginRequest, issuer: string): string {
  const params = new URLSearchParams({
    requestId: request.requestId,
    userId: request.userId,
    challenge: request.challenge,
    ocraSuite: request.ocraSuite,
    issuer,
  });
  if (request.boundDeviceId !== null) params.set('deviceId', request.boundDeviceId);
  return `totp-login://approve?${params.toString()}`;
}
