import { Injectable } from '@nestjs/common';
import { ClientsRepository } from './clients.repository.js';
import type { OAuthClientEntity } from './oauth-client.entity.js';

// A client row is read at most once a second per client and replica: disabling a client or
// rotating its secret takes effect everywhere within that second, for new tokens and old ones.
const CACHE_MS = 1000;
const CACHE_SIZE = 10_000;

/** The API clients as the token endpoint and the bearer guard see them. */
@Injectable()
export class ClientDirectory {
  private readonly cache = new Map<string, { client: OAuthClientEntity | null; until: number }>();

  constructor(private readonly clients: ClientsRepository) {}

  async find(id: string): Promise<OAuthClientEntity | null> {
    const cached = this.cache.get(id);
    if (cached !== undefined && cached.until > Date.now()) return cached.client;
    const client = await this.clients.findById(id);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { client, until: Date.now() + CACHE_MS });
    return client;
  }
}
