import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { PendingStore } from '../pending/pending.store.js';
import type { ReadinessDto } from './health.dto.js';

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);

@Injectable()
export class HealthService implements BeforeApplicationShutdown {
  private draining = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: Database,
    private readonly store: PendingStore,
  ) {}

  /** On SIGTERM readiness turns 503 first, so load balancers stop sending traffic while in-flight requests finish. */
  startDraining(): void {
    this.draining = true;
  }

  beforeApplicationShutdown(): void {
    this.startDraining();
  }

  /** Postgres answers a query; Redis takes a write (a Redis that answers PING but refuses writes is DOWN). */
  async readiness(): Promise<ReadinessDto> {
    const { postgres, redis } = await this.checks();
    if (postgres === 'DOWN' || redis === 'DOWN' || this.draining) {
      throw new DomainError('SERVICE_UNAVAILABLE', this.draining ? 'The service is shutting down' : 'A dependency is unavailable', {
        retryAfterSeconds: 2,
        extra: { postgres, redis },
      });
    }
    return { status: 'UP', checks: { postgres, redis } };
  }

  /** Each dependency checked once, within the dependency timeout (readiness, and totp_dependency_up). */
  async checks(): Promise<{ postgres: 'UP' | 'DOWN'; redis: 'UP' | 'DOWN' }> {
    const timeout = this.config.dependencyTimeoutMs;
    const [postgres, redis] = await Promise.all([
      withTimeout(this.db.query('SELECT 1', []), timeout).then(
        () => 'UP' as const,
        () => 'DOWN' as const,
      ),
      withTimeout(this.store.probe(), timeout).then(
        () => 'UP' as const,
        () => 'DOWN' as const,
      ),
    ]);
    return { postgres, redis };
  }
}
