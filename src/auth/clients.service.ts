import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { type PolicyOverrides, policyProblems } from './client-policy.js';
import { hashClientSecret, newClientSecret, secretMatches } from './client-secret.js';
import { ClientsRepository } from './clients.repository.js';
import type { OAuthClient } from './oauth-client.js';
import { isScope, SCOPES, type Scope } from './scopes.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface ClientSummary {
  clientId: string;
  name: string;
  scopes: string[];
  disabled: boolean;
  createdAt: string;
  secretRotatedAt: string | null;
  /** The client's policy overrides; the rest is the service's configuration. */
  policy: PolicyOverrides;
}

export class ClientInputError extends Error {}

const toSummary = (c: OAuthClient): ClientSummary => ({
  clientId: c.id,
  name: c.name,
  scopes: c.scopes,
  disabled: c.disabled,
  createdAt: c.createdAt.toISOString(),
  secretRotatedAt: c.secretRotatedAt?.toISOString() ?? null,
  policy: c.policy,
});

/** Operator use cases for API clients (npm run client:*). The secret is shown once, stored hashed. */
@Injectable()
export class ClientsService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly clock: Clock,
  ) {}

  async create(name: string, scopes: string, fixed?: Partial<ClientCredentials>): Promise<ClientCredentials> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) throw new ClientInputError('--name must be 1-200 characters');
    const secret = fixed?.clientSecret ?? newClientSecret();
    const client: OAuthClient = {
      id: fixed?.clientId ?? randomUUID(),
      name: trimmed,
      scopes: parseScopes(scopes),
      secretHash: hashClientSecret(secret),
      disabled: false,
      createdAt: this.clock.now(),
      secretRotatedAt: null,
      tokenGeneration: 0,
      policy: {},
    };
    await this.clients.insert(client);
    return { clientId: client.id, clientSecret: secret };
  }

  /** The embedded mode's demo client, with exactly these credentials (DEMO_CLIENT_ID / DEMO_CLIENT_SECRET). */
  async ensure(name: string, scopes: string, credentials: ClientCredentials): Promise<void> {
    const existing = await this.clients.findById(credentials.clientId);
    if (existing === null) {
      await this.create(name, scopes, credentials);
    } else if (!secretMatches(credentials.clientSecret, existing.secretHash)) {
      // Re-aligning the demo client with DEMO_CLIENT_SECRET at start-up, not a revocation.
      await this.clients.setSecretHash(credentials.clientId, hashClientSecret(credentials.clientSecret), false, this.clock.now());
    }
  }

  async list(): Promise<ClientSummary[]> {
    return (await this.clients.list()).map(toSummary);
  }

  /**
   * Changes the client's policy for new devices: `changes` are merged into its overrides (`reset`
   * first drops them all). Devices already created keep theirs.
   */
  async setPolicy(clientId: string, changes: PolicyOverrides, reset = false): Promise<PolicyOverrides> {
    const client = await this.clients.findById(clientId);
    if (client === null) throw new ClientInputError(`No client ${clientId}`);
    const problems = policyProblems(changes);
    if (problems.length > 0) throw new ClientInputError(problems.join('; '));
    const policy = { ...(reset ? {} : client.policy), ...changes };
    await this.clients.setPolicy(clientId, policy);
    return policy;
  }

  async disable(clientId: string): Promise<void> {
    if (!(await this.clients.setDisabled(clientId, true))) throw new ClientInputError(`No client ${clientId}`);
  }

  /**
   * A new secret, shown once. By default the tokens issued before stop working (within a second,
   * on every replica); `keepTokens` lets them run out instead, for a rotation without downtime.
   */
  async rotateSecret(clientId: string, options: { keepTokens?: boolean } = {}): Promise<ClientCredentials> {
    const secret = newClientSecret();
    const done = await this.clients.setSecretHash(clientId, hashClientSecret(secret), options.keepTokens !== true, this.clock.now());
    if (!done) throw new ClientInputError(`No client ${clientId}`);
    return { clientId, clientSecret: secret };
  }
}

function parseScopes(value: string): Scope[] {
  const scopes = [...new Set(value.split(/\s+/).filter((s) => s !== ''))];
  const unknown = scopes.filter((s) => !isScope(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new ClientInputError(
      `--scopes must be a space-separated subset of: ${SCOPES.join(' ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(' ')})` : ''}`,
    );
  }
  return scopes.filter(isScope);
}
