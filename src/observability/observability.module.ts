import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthModule } from '../auth/auth.module.js';
import { ClientsService } from '../auth/clients.service.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { HealthModule } from '../health/health.module.js';
import { HealthService } from '../health/health.service.js';
import { PendingStore } from '../pending/pending.store.js';
import { Metrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';

/**
 * Wires what is read at scrape time (pool, dependencies, pending backlog) and serves GET /metrics
 * on METRICS_PORT from start-up until the application has closed. Nothing when metrics are off.
 */
@Injectable()
export class MetricsEndpoint implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly server: MetricsServer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly metrics: Metrics,
    private readonly db: Database,
    private readonly health: HealthService,
    private readonly clients: ClientsService,
    private readonly pending: PendingStore,
  ) {
    this.server = new MetricsServer(metrics, logger);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.metrics.enabled) return;
    this.metrics.observe({
      pool: () => this.db.poolStats(),
      dependencies: async () => {
        const { postgres, redis } = await this.health.checks();
        return { postgresql: postgres === 'UP', redis: redis === 'UP' };
      },
      pendingRegistrations: async () => {
        const counts = await Promise.all((await this.clients.list()).map((c) => this.pending.countForClient(c.clientId)));
        return counts.reduce((sum, n) => sum + n, 0);
      },
    });
    await this.server.listen(this.config.metricsPort, this.config.host);
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.close();
  }
}

@Module({ imports: [HealthModule, AuthModule], providers: [MetricsEndpoint] })
export class ObservabilityModule {}
