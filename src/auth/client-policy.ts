import type { AppConfig, HashAlgorithm } from '../config/config.js';

/** A client's (tenant's) TOTP policy for new devices (API.md §12); each device keeps the one it was created with. */
export interface ClientPolicy {
  algorithm: HashAlgorithm;
  digits: 6 | 8;
  period: 30 | 60;
  /** Accepted drift in time steps either side (0-3). */
  window: number;
  issuer: string;
  maxPendingPerUser: number;
  maxActivePerUser: number;
}

/** What a client overrides; the rest comes from the service's configuration. */
export type PolicyOverrides = Partial<ClientPolicy>;

export function effectivePolicy(config: AppConfig, overrides: PolicyOverrides): ClientPolicy {
  const { totp, limits } = config;
  return {
    algorithm: overrides.algorithm ?? totp.algorithm,
    // The service's own defaults may be any period (TOTP_PERIOD 15-120); a client policy picks 30 or 60.
    period: overrides.period ?? (totp.period as 30 | 60),
    digits: overrides.digits ?? totp.digits,
    window: overrides.window ?? totp.window,
    issuer: overrides.issuer ?? totp.issuer,
    maxPendingPerUser: overrides.maxPendingPerUser ?? limits.maxPendingPerUser,
    maxActivePerUser: overrides.maxActivePerUser ?? limits.maxActivePerUser,
  };
}

/** Problems with overrides as an operator gave them (empty when they are valid). */
export function policyProblems(o: PolicyOverrides): string[] {
  const problems: string[] = [];
  if (o.algorithm !== undefined && !['SHA1', 'SHA256', 'SHA512'].includes(o.algorithm)) problems.push('--algorithm must be SHA1, SHA256 or SHA512');
  if (o.digits !== undefined && o.digits !== 6 && o.digits !== 8) problems.push('--digits must be 6 or 8');
  if (o.period !== undefined && o.period !== 30 && o.period !== 60) problems.push('--period must be 30 or 60');
  if (o.window !== undefined && !(Number.isInteger(o.window) && o.window >= 0 && o.window <= 3)) problems.push('--window must be 0-3');
  if (o.issuer !== undefined && !/^[^\p{C}:]{1,64}$/u.test(o.issuer)) problems.push('--issuer must be 1-64 printable characters without ":"');
  for (const [name, value] of [
    ['--max-pending', o.maxPendingPerUser],
    ['--max-active', o.maxActivePerUser],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 100)) problems.push(`${name} must be 1-100`);
  }
  return problems;
}

/**
 * Google Authenticator (and some others) ignore algorithm, digits and period on some platforms and
 * show SHA1 / 6-digit / 30 s codes, which then never match.
 */
export function compatibilityWarning(policy: ClientPolicy): string | undefined {
  if (policy.algorithm === 'SHA1' && policy.digits === 6 && policy.period === 30) return undefined;
  return (
    'Warning: Google Authenticator ignores a non-default algorithm, digits or period on some platforms ' +
    '(it shows SHA1, 6-digit, 30 s codes that never match). ' +
    'Tell users which apps work (FreeOTP, Aegis, 1Password, Microsoft Authenticator), or keep SHA1 / 6 / 30.'
  );
}
