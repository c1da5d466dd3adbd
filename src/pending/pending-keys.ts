/** The Redis keys of one registration: the registration itself and the two indexes its scripts keep. */
export interface PendingKeys {
  registration: string;
  user: string;
  client: string;
}

/**
 * Every key of a client carries the client id as its hash tag (`{…}`), so the keys one script
 * touches always live in one cluster slot (test/unit/redis-slots.test.ts).
 */
export function pendingKeys(prefix: string, clientId: string, authId: string, userId = ''): PendingKeys {
  const tag = `{${clientId}}`;
  return { registration: `${prefix}reg:${tag}:${authId}`, user: `${prefix}ureg:${tag}:${userId}`, client: `${prefix}creg:${tag}` };
}

/** The keys before they were hash-tagged (one Redis node only; registrations there are adopted). */
export function legacyPendingKeys(prefix: string, clientId: string, authId: string, userId: string): PendingKeys {
  return { registration: `${prefix}reg:${clientId}:${authId}`, user: `${prefix}ureg:${clientId}:${userId}`, client: `${prefix}creg:${clientId}` };
}
