import type { RedisCommands, RedisConnection } from '../redis/redis-connection.js';
import { legacyPendingKeys, type PendingKeys, pendingKeys } from './pending-keys.js';
import { ADOPT, CLAIM, CREATE, FAIL, RELEASE, REMOVE, RENAME } from './pending-scripts.js';
import {
  type ClaimOutcome,
  type CreateOutcome,
  type FailureOutcome,
  type PendingRegistration,
  PendingStore,
  type RemoveOutcome,
} from './pending.store.js';

function decode(data: string, name: unknown): PendingRegistration {
  const registration = JSON.parse(data) as PendingRegistration;
  return typeof name === 'string' ? { ...registration, deviceName: name } : registration;
}

/**
 * Pending registrations in Redis: a hash per registration (TTL = the registration's), and two
 * sorted-set indexes (per user, per client) for the pending limits. Every key of a client carries
 * the client id as its hash tag, so each script's keys share one cluster slot.
 */
export class RedisPendingStore extends PendingStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    /** Also look for registrations under the keys used before hash tags (single-node Redis only). */
    private readonly adoptLegacyKeys: boolean,
    private readonly now: () => number,
  ) {
    super();
  }

  private keys(clientId: string, authId: string, userId = ''): PendingKeys {
    return pendingKeys(this.prefix, clientId, authId, userId);
  }

  private legacyKeys(clientId: string, authId: string, userId: string): PendingKeys {
    return legacyPendingKeys(this.prefix, clientId, authId, userId);
  }

  private run<T>(action: (redis: RedisCommands) => Promise<T>): Promise<T> {
    return this.redis.run(action);
  }

  /** Runs `action`; when it finds nothing and a registration was under its pre-upgrade key, moves it and runs again. */
  private async withAdoption<T>(
    clientId: string,
    authId: string,
    notFound: (result: T) => boolean,
    action: (redis: RedisCommands) => Promise<T>,
  ): Promise<T> {
    return this.run(async (redis) => {
      const result = await action(redis);
      if (!this.adoptLegacyKeys || !notFound(result)) return result;
      const legacyKey = this.legacyKeys(clientId, authId, '').registration;
      const legacy = await redis.send<string | null>(legacyKey, ['HGET', legacyKey, 'data']);
      if (typeof legacy !== 'string') return result;
      const { userId } = JSON.parse(legacy) as PendingRegistration;
      const from = this.legacyKeys(clientId, authId, userId);
      const to = this.keys(clientId, authId, userId);
      // Moved now, or a moment ago by a concurrent request: either way it is under the new key.
      await redis.eval<number>(ADOPT, [from.registration, from.user, from.client, to.registration, to.user, to.client], [authId]);
      return action(redis);
    });
  }

  override countForClient(clientId: string): Promise<number> {
    const key = this.keys(clientId, '').client;
    return this.run(async (redis) => Number(await redis.send<number>(key, ['ZCOUNT', key, `(${this.now()}`, '+inf'])));
  }

  override create(r: PendingRegistration, limits: { perUser: number; perClient: number }): Promise<CreateOutcome> {
    const k = this.keys(r.clientId, r.authId, r.userId);
    const now = this.now();
    return this.run((redis) =>
      redis.eval<CreateOutcome>(
        CREATE,
        [k.registration, k.user, k.client],
        [now, r.expiresAt, Math.max(1, r.expiresAt - now), limits.perUser, limits.perClient, r.authId, JSON.stringify(r), r.deviceName],
      ),
    );
  }

  private async read(redis: RedisCommands, key: string): Promise<PendingRegistration | undefined> {
    const [data, name] = await redis.send<Array<string | null>>(key, ['HMGET', key, 'data', 'name']);
    return typeof data === 'string' ? decode(data, name) : undefined;
  }

  private pendingIds(redis: RedisCommands, index: string, now: number): Promise<string[]> {
    return redis.send<string[]>(index, ['ZRANGEBYSCORE', index, String(now), '+inf']);
  }

  override get(clientId: string, authId: string): Promise<PendingRegistration | undefined> {
    return this.withAdoption(
      clientId,
      authId,
      (r) => r === undefined,
      (redis) => this.read(redis, this.keys(clientId, authId).registration),
    );
  }

  override listForUser(clientId: string, userId: string): Promise<PendingRegistration[]> {
    return this.run(async (redis) => {
      const now = this.now();
      const [ids, legacyIds] = await Promise.all([
        this.pendingIds(redis, this.keys(clientId, '', userId).user, now),
        this.adoptLegacyKeys ? this.pendingIds(redis, this.legacyKeys(clientId, '', userId).user, now) : Promise.resolve([]),
      ]);
      const rows = await Promise.all([
        ...ids.map((id) => this.read(redis, this.keys(clientId, id).registration)),
        ...legacyIds.map((id) => this.read(redis, this.legacyKeys(clientId, id, userId).registration)),
      ]);
      return rows.filter((r): r is PendingRegistration => r !== undefined);
    });
  }

  override rename(clientId: string, authId: string, deviceName: string): Promise<boolean> {
    return this.withAdoption(
      clientId,
      authId,
      (renamed) => !renamed,
      async (redis) => (await redis.eval<number>(RENAME, [this.keys(clientId, authId).registration], [deviceName])) === 1,
    );
  }

  override claim(clientId: string, authId: string, lockMs: number): Promise<ClaimOutcome> {
    return this.withAdoption(
      clientId,
      authId,
      (c) => c.status === 'NOT_FOUND',
      async (redis) => {
        const reply = await redis.eval<[string, string?, string?, string?]>(CLAIM, [this.keys(clientId, authId).registration], [this.now(), lockMs]);
        const [status, data, failures, name] = reply;
        if (status === 'OK' && data !== undefined) return { status: 'OK', registration: decode(data, name), failures: Number(failures ?? 0) };
        return status === 'BUSY' ? { status: 'BUSY' } : { status: 'NOT_FOUND' };
      },
    );
  }

  override recordFailure(clientId: string, userId: string, authId: string, maxAttempts: number): Promise<FailureOutcome> {
    const k = this.keys(clientId, authId, userId);
    return this.run(async (redis) => {
      const [status, remaining] = await redis.eval<[string, number]>(FAIL, [k.registration, k.user, k.client], [maxAttempts, authId]);
      if (status === 'REMAINING') return { status: 'REMAINING', remaining };
      return status === 'EXHAUSTED' ? { status: 'EXHAUSTED' } : { status: 'NOT_FOUND' };
    });
  }

  override release(clientId: string, authId: string): Promise<void> {
    return this.run(async (redis) => {
      await redis.eval(RELEASE, [this.keys(clientId, authId).registration], []);
    });
  }

  override remove(clientId: string, userId: string, authId: string, options: { evenIfClaimed?: boolean } = {}): Promise<RemoveOutcome> {
    const k = this.keys(clientId, authId, userId);
    return this.withAdoption(
      clientId,
      authId,
      (r) => r === 'NOT_FOUND',
      async (redis) => {
        const result = await redis.eval<number>(
          REMOVE,
          [k.registration, k.user, k.client],
          [authId, this.now(), options.evenIfClaimed === true ? 1 : 0, userId],
        );
        return result === 1 ? 'REMOVED' : result === -1 ? 'BUSY' : 'NOT_FOUND';
      },
    );
  }

  override probe(): Promise<void> {
    return this.redis.probe(this.prefix);
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }
}
