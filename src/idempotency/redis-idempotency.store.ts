import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../redis/redis-connection.js';
import { RedisUserIndex } from '../redis/user-index.js';
import type { SecretBox } from '../totp/secret-box.js';
import { ABANDON, BEGIN, COMPLETE } from './idempotency-scripts.js';
import { type BeginOutcome, IdempotencyStore, type StoredResponse } from './idempotency.store.js';

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex');

export class RedisIdempotencyStore extends IdempotencyStore {
  /** The keys begun on a user's paths (by their hash), for erasing the user. */
  private readonly users: RedisUserIndex;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly box: SecretBox,
  ) {
    super();
    this.users = new RedisUserIndex(prefix, 'uidem', 'user');
  }

  private entryOf = (clientId: string, hash: string) => `${this.prefix}idem:${clientId}:{${hash}}`;
  private entry = (clientId: string, key: string) => this.entryOf(clientId, keyHash(key));
  private aad = (clientId: string, key: string) => `idempotent-response:${clientId}:${keyHash(key)}`;

  override begin(clientId: string, key: string, fingerprint: string, runningMs: number, userId?: string): Promise<BeginOutcome> {
    const run = randomUUID();
    return this.redis.run(async (redis) => {
      if (userId !== undefined) await this.users.add(redis, clientId, userId, keyHash(key), runningMs);
      const [outcome, sealed] = await redis.eval<[string, string?]>(BEGIN, [this.entry(clientId, key)], [fingerprint, runningMs, run, userId ?? '']);
      if (outcome === 'DONE' && sealed !== undefined) {
        return { status: 'DONE', response: JSON.parse(this.box.open(sealed, this.aad(clientId, key)).toString('utf8')) as StoredResponse };
      }
      if (outcome === 'STARTED') return { status: 'STARTED', run };
      return { status: outcome === 'REUSED' ? 'REUSED' : 'IN_PROGRESS' };
    });
  }

  override complete(clientId: string, key: string, run: string, response: StoredResponse, keepMs: number, userId?: string): Promise<boolean> {
    const sealed = this.box.seal(JSON.stringify(response), this.aad(clientId, key));
    return this.redis.run(async (redis) => {
      if (userId !== undefined) await this.users.add(redis, clientId, userId, keyHash(key), keepMs);
      return (await redis.eval<number>(COMPLETE, [this.entry(clientId, key)], [run, sealed, keepMs])) === 1;
    });
  }

  override abandon(clientId: string, key: string, run: string): Promise<void> {
    return this.redis.run(async (redis) => void (await redis.eval(ABANDON, [this.entry(clientId, key)], [run])));
  }

  override eraseUser(clientId: string, userId: string): Promise<void> {
    return this.redis.run((redis) => this.users.erase(redis, clientId, userId, (hash) => this.entryOf(clientId, hash)));
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }
}
