/** RFC 6749 §5.2 error codes, plus 429 for throttled client authentication. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'too_many_requests'
  | 'temporarily_unavailable';

export interface OAuthErrorOptions {
  /** invalid_client after HTTP Basic: answered with a Basic challenge (RFC 6749 §5.2). */
  basicChallenge?: boolean;
  retryAfterSeconds?: number;
  /** Overrides the status, e.g. 413 for a body over the limit, which RFC 6749 has no code for. */
  status?: number;
}

/**
 * An error of the token endpoint (RFC 6749 §5.2), rendered by the one error filter as
 * `{"error", "error_description"}` with no-store headers.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly options: OAuthErrorOptions = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  get status(): number {
    if (this.options.status !== undefined) return this.options.status;
    switch (this.error) {
      case 'invalid_client':
        return 401;
      case 'too_many_requests':
        return 429;
      case 'temporarily_unavailable':
        return 503;
      case 'invalid_request':
      case 'invalid_grant':
      case 'unauthorized_client':
      case 'unsupported_grant_type':
      case 'invalid_scope':
        return 400;
    }
  }
}
