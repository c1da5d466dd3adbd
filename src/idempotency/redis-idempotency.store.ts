import { createHash } from 'node:crypto';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { SecretBox } from '../totp/secret-box.js';
import { ABANDON, BEGIN, COMPLETE } from './idempotency-scripts.js';
import { type BeginOutcome, IdempotencyStore, type StoredResponse } from './idempotency.store.js';

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex');

export class RedisIdempotencyStore extends IdempotencyStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly box: SecretBox,
  ) {
    super();
  }

  private entry = (clientId: string, key: string) => `${this.prefix}idem:${clientId}:{${keyHash(key)}}`;
  private aad = (clientId: string, key: string) => `idempotent-response:${clientId}:${keyHash(key)}`;

  override begin(clientId: string, key: string, fingerprint: string, runningMs: number): Promise<BeginOutcome> {
    return this.redis.run(async (redis) => {
      const [outcome, sealed] = await redis.eval<[string, string?]>(BEGIN, [this.entry(clientId, key)], [fingerprint, runningMs]);
      if (outcome === 'DONE' && sealed !== undefined) {
        return { status: 'DONE', response: JSON.parse(this.box.open(sealed, this.aad(clientId, key)).toString('utf8')) as StoredResponse };
      }
      return { status: outcome === 'STARTED' ? 'STARTED' : outcome === 'REUSED' ? 'REUSED' : 'IN_PROGRESS' };
    });
  }

  override complete(clientId: string, key: string, fingerprint: string, response: StoredResponse, keepMs: number): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(response), this.aad(clientId, key));
    return this.redis.run(async (redis) => void (await redis.eval(COMPLETE, [this.entry(clientId, key)], [fingerprint, sealed, keepMs])));
  }

  override abandon(clientId: string, key: string, fingerprint: string): Promise<void> {
    return this.redis.run(async (redis) => void (await redis.eval(ABANDON, [this.entry(clientId, key)], [fingerprint])));
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }
}
