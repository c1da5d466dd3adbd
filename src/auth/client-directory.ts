import { Injectable } from '@nestjs/common';
import type { Batcher } from '../common/batcher.js';
import { Clock } from '../common/clock.js';
import { BatchedStatements } from '../database/batched-statements.js';
import { ClientsRepository } from './clients.repository.js';
import type { OAuthClient } from './oauth-client.js';

// A client row is read at most once a second per client and replica: disabling a client or
// rotating its secret takes effect everywhere within that second, for new tokens and old ones.
const CACHE_MS = 1000;
const CACHE_SIZE = 10_000;

/** The API clients as the token endpoint and the bearer guard see them. */
@Injectable()
export class ClientDirectory {
  private readonly cache = new Map<string, { client: OAuthClient | null; until: number }>();
  /** Ids found to be clients on this replica (clients are never deleted, so this never goes stale). */
  private readonly seen = new Set<string>();
  private readonly existence: Batcher<string, boolean>;

  constructor(
    private readonly clients: ClientsRepository,
    private readonly clock: Clock,
    batches: BatchedStatements,
  ) {
    // One statement for all the ids asked about at once, one statement at a time per replica.
    this.existence = batches.create(
      'client_existence',
      async (ids: string[]) => {
        const found = new Set(await clients.existing(ids));
        return ids.map((id) => found.has(id));
      },
      { hot: false },
    );
  }

  async find(id: string): Promise<OAuthClient | null> {
    const cached = this.cache.get(id);
    if (cached !== undefined && cached.until > this.clock.nowMs()) return cached.client;
    const client = await this.clients.findById(id);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { client, until: this.clock.nowMs() + CACHE_MS });
    if (client !== null && this.seen.size < CACHE_SIZE) this.seen.add(id);
    return client;
  }

  /** True when `id` is a client this replica has seen, or an id it looked up within the last second. */
  knows(id: string): boolean {
    return this.seen.has(id) || (this.cache.get(id)?.until ?? 0) > this.clock.nowMs();
  }

  /** Whether `id` is a client, without reading its row: batched with the other ids asked about at once. */
  exists(id: string): Promise<boolean> {
    return this.existence.submit(id);
  }
}
