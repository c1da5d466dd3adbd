import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
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

  constructor(
    private readonly clients: ClientsRepository,
    private readonly clock: Clock,
  ) {}

  async find(id: string): Promise<OAuthClient | null> {
    const cached = this.cache.get(id);
    if (cached !== undefined && cached.until > this.clock.nowMs()) return cached.client;
    const client = await this.clients.findById(id);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { client, until: this.clock.nowMs() + CACHE_MS });
    return client;
  }
}
