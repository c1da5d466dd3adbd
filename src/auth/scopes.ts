import { SetMetadata } from '@nestjs/common';

export const SCOPES = ['devices:write', 'devices:read', 'otp:verify', 'devices:import'] as const;
export type Scope = (typeof SCOPES)[number];
export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'devices:write': 'Create, activate, rename and delete devices',
  'devices:read': 'List and read devices and their events',
  'otp:verify': 'Verify login OTPs',
  'devices:import': 'Import existing authenticators (their secrets) as active devices',
};

export const REQUIRED_SCOPE = 'requiredScope';
/** A route any valid token may call. */
export const ANY_SCOPE = '*';
export const PUBLIC_ROUTE = 'publicRoute';

/** The scope a route needs; every non-public route declares one. */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
/** Opts a route out of the global bearer guard. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
