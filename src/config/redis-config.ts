import { readFileSync } from 'node:fs';
import type { EnvReader } from './env-reader.js';

export interface HostPort {
  host: string;
  port: number;
}

/** How to reach Redis: one of three topologies, with the credentials and TLS settings of its nodes. */
export type RedisConfig = (
  { mode: 'standalone'; url: string } | { mode: 'cluster'; nodes: HostPort[] } | { mode: 'sentinel'; sentinels: HostPort[]; name: string }
) & {
  username: string | undefined;
  password: string | undefined;
  sentinelPassword: string | undefined;
  /** TLS for cluster and sentinel nodes (standalone: the rediss:// scheme). */
  tls: boolean;
  /** PEM of the CA (REDIS_TLS_CA_FILE), when not the system's. */
  ca: string | undefined;
};

/** The Redis settings, or undefined when none is given (the embedded mode). Problems go to the reader. */
export function readRedisConfig(r: EnvReader): RedisConfig | undefined {
  const mode = r.oneOf('REDIS_MODE', 'standalone', ['standalone', 'cluster', 'sentinel'] as const);
  const url = r.url('REDIS_URL', ['redis:', 'rediss:']);
  const nodes = r.hostPorts('REDIS_CLUSTER_NODES');
  const sentinels = r.hostPorts('REDIS_SENTINELS');
  const name = r.raw('REDIS_SENTINEL_NAME');
  const caFile = r.raw('REDIS_TLS_CA_FILE');
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch {
      r.problems.push(`REDIS_TLS_CA_FILE cannot be read (${caFile})`);
    }
  }
  const common = {
    username: r.raw('REDIS_USERNAME'),
    password: r.raw('REDIS_PASSWORD'),
    sentinelPassword: r.raw('REDIS_SENTINEL_PASSWORD'),
    tls: r.bool('REDIS_TLS', false),
    ca,
  };
  switch (mode) {
    case 'standalone':
      if (nodes.length > 0 || sentinels.length > 0)
        r.problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS need REDIS_MODE=cluster or REDIS_MODE=sentinel');
      // In standalone mode the URL's scheme says whether TLS is used; a redis:// URL with TLS settings is a contradiction.
      if (url?.startsWith('redis:') === true && (common.tls || caFile !== undefined))
        r.problems.push('REDIS_TLS and REDIS_TLS_CA_FILE need a rediss:// REDIS_URL in standalone mode (use rediss://host:port)');
      return url === undefined ? undefined : { mode, url, ...common };
    case 'cluster':
      if (nodes.length === 0) r.problems.push('REDIS_MODE=cluster needs REDIS_CLUSTER_NODES (host:port,host:port)');
      return { mode, nodes, ...common };
    case 'sentinel':
      if (sentinels.length === 0 || name === undefined)
        r.problems.push('REDIS_MODE=sentinel needs REDIS_SENTINELS (host:port,host:port) and REDIS_SENTINEL_NAME');
      return { mode, sentinels, name: name ?? '', ...common };
  }
}

/**
 * REDIS_KEY_PREFIX: every key is `<prefix><kind>:{<clientId>}:…`, and Redis Cluster hashes only the
 * first `{…}` of a key, so a brace in the prefix would move the hash tag (scripts then fail with
 * CROSSSLOT, or every client lands in one slot).
 */
export function readRedisKeyPrefix(r: EnvReader): string {
  const prefix = r.string('REDIS_KEY_PREFIX', 'totp:');
  if (/[{}]/.test(prefix))
    r.problems.push(`REDIS_KEY_PREFIX must not contain { or } (got "${prefix}"): keys carry the client id as their cluster hash tag`);
  return prefix;
}
