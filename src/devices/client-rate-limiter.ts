import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CounterStore } from '../counters/counter.store.js';
import { rateLimited } from './device.errors.js';

/** Per-client limit on create and activate, counted in the shared store so replicas share it. */
@Injectable()
export class ClientRateLimiter {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly counters: CounterStore,
  ) {}

  async check(clientId: string): Promise<void> {
    const limit = this.config.limits.rateLimitPerClientPerSecond;
    if (limit === 0) return;
    const window = await this.counters.hit(`rate:${clientId}`, 1000);
    if (window.count > limit) throw rateLimited(window.resetInMs);
  }
}
