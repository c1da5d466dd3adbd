import type { RedisClientType } from 'redis';
import type { RedisConnection } from '../redis/redis-connection.js';
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

interface Keys {
  registration: string;
  user: string;
  client: string;
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

  private keys(clientId: string, authId: string, userId = ''): Keys {
    const tag = `{${clientId}}`;
    return { registration: `${this.prefix}reg:${tag}:${authId}`, user: `${this.prefix}ureg:${tag}:${userId}`, client: `${this.prefix}creg:${tag}` };
  }

  private legacyKeys(clientId: string, authId: string, userId: string): Keys {
    return {
      registration: `${this.prefix}reg:${clientId}:${authId}`,
      user: `${this.prefix}ureg:${clientId}:${userId}`,
      client: `${this.prefix}creg:${clientId}`,
    };
  }

  private run<T>(action: (client: RedisClientType) => Promise<T>): Promise<T> {
    return this.redis.run(action);
  }

  /** Runs `action`; when it finds nothing and a registration was under its pre-upgrade key, moves it and runs again. */
  private async withAdoption<T>(
    clientId: string,
    authId: string,
    notFound: (result: T) => boolean,
    action: (client: RedisClientType) => Promise<T>,
  ): Promise<T> {
    return this.run(async (client) => {
      const result = await action(client);
      if (!this.adoptLegacyKeys || !notFound(result)) return result;
      const legacy = await client.hGet(this.legacyKeys(clientId, authId, '').registration, 'data');
      if (typeof legacy !== 'string') return result;
      const { userId } = JSON.parse(legacy) as PendingRegistration;
      const from = this.legacyKeys(clientId, authId, userId);
      const to = this.keys(clientId, authId, userId);
      // Moved now, or a moment ago by a concurrent request: either way it is under the new key.
      await this.redis.eval<number>(client, ADOPT, [from.registration, from.user, from.client, to.registration, to.user, to.client], [authId]);
      return action(client);
    });
  }

  override create(r: PendingRegistration, limits: { perUser: number; perClient: number }): Promise<CreateOutcome> {
    const k = this.keys(r.clientId, r.authId, r.userId);
    const now = this.now();
    return this.run((client) =>
      this.redis.eval<CreateOutcome>(
        client,
        CREATE,
        [k.registration, k.user, k.client],
        [now, r.expiresAt, Math.max(1, r.expiresAt - now), limits.perUser, limits.perClient, r.authId, JSON.stringify(r), r.deviceName],
      ),
    );
  }

  private async read(client: RedisClientType, key: string): Promise<PendingRegistration | undefined> {
    const [data, name] = await client.hmGet(key, ['data', 'name']);
    return typeof data === 'string' ? decode(data, name) : undefined;
  }

  override get(clientId: string, authId: string): Promise<PendingRegistration | undefined> {
    return this.withAdoption(
      clientId,
      authId,
      (r) => r === undefined,
      (client) => this.read(client, this.keys(clientId, authId).registration),
    );
  }

  override listForUser(clientId: string, userId: string): Promise<PendingRegistration[]> {
    return this.run(async (client) => {
      const now = this.now();
      const [ids, legacyIds] = await Promise.all([
        client.zRangeByScore(this.keys(clientId, '', userId).user, now, '+inf'),
        this.adoptLegacyKeys ? client.zRangeByScore(this.legacyKeys(clientId, '', userId).user, now, '+inf') : Promise.resolve([]),
      ]);
      const rows = await Promise.all([
        ...ids.map((id) => this.read(client, this.keys(clientId, id).registration)),
        ...legacyIds.map((id) => this.read(client, this.legacyKeys(clientId, id, userId).registration)),
      ]);
      return rows.filter((r): r is PendingRegistration => r !== undefined);
    });
  }

  override rename(clientId: string, authId: string, deviceName: string): Promise<boolean> {
    return this.withAdoption(
      clientId,
      authId,
      (renamed) => !renamed,
      async (client) => (await this.redis.eval<number>(client, RENAME, [this.keys(clientId, authId).registration], [deviceName])) === 1,
    );
  }

  override claim(clientId: string, authId: string, lockMs: number): Promise<ClaimOutcome> {
    return this.withAdoption(
      clientId,
      authId,
      (c) => c.status === 'NOT_FOUND',
      async (client) => {
        const reply = await this.redis.eval<[string, string?, string?, string?]>(
          client,
          CLAIM,
          [this.keys(clientId, authId).registration],
          [this.now(), lockMs],
        );
        const [status, data, failures, name] = reply;
        if (status === 'OK' && data !== undefined) return { status: 'OK', registration: decode(data, name), failures: Number(failures ?? 0) };
        return status === 'BUSY' ? { status: 'BUSY' } : { status: 'NOT_FOUND' };
      },
    );
  }

  override recordFailure(clientId: string, userId: string, authId: string, maxAttempts: number): Promise<FailureOutcome> {
    const k = this.keys(clientId, authId, userId);
    return this.run(async (client) => {
      const [status, remaining] = await this.redis.eval<[string, number]>(client, FAIL, [k.registration, k.user, k.client], [maxAttempts, authId]);
      if (status === 'REMAINING') return { status: 'REMAINING', remaining };
      return status === 'EXHAUSTED' ? { status: 'EXHAUSTED' } : { status: 'NOT_FOUND' };
    });
  }

  override release(clientId: string, authId: string): Promise<void> {
    return this.run(async (client) => {
      await this.redis.eval(client, RELEASE, [this.keys(clientId, authId).registration], []);
    });
  }

  override remove(clientId: string, userId: string, authId: string, options: { evenIfClaimed?: boolean } = {}): Promise<RemoveOutcome> {
    const k = this.keys(clientId, authId, userId);
    return this.withAdoption(
      clientId,
      authId,
      (r) => r === 'NOT_FOUND',
      async (client) => {
        const result = await this.redis.eval<number>(
          client,
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
