import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import type { Logger } from 'pino';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { Clock } from './common/clock.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { LOGGER } from './common/logger.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { BatchedStatements } from './database/batched-statements.js';
import { Database } from './database/database.js';
import { DevicesModule } from './devices/devices.module.js';
import { DemoModule } from './embedded/demo.module.js';
import { HealthModule } from './health/health.module.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { IdempotencyStore } from './idempotency/idempotency.store.js';
import { LoginRequestStore } from './login/login-request.store.js';
import { LoginModule } from './login/login.module.js';
import { RecoveryModule } from './recovery/recovery.module.js';
import { UsersModule } from './users/users.module.js';
import { CounterStore } from './counters/counter.store.js';
import { PendingStore } from './pending/pending.store.js';
import { RedisConnection } from './redis/redis-connection.js';
import { SecretBox } from './totp/secret-box.js';
import { Metrics } from './observability/metrics.js';
import { ObservabilityModule } from './observability/observability.module.js';

/** What the bootstrap resolved before Nest starts: configuration, logger, clock, database and the stores. */
export interface Runtime {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  db: Database;
  batches: BatchedStatements;
  /** Prometheus metrics, or the base class that records nothing (METRICS_PORT=0). */
  metrics: Metrics;
  /** Absent in the embedded mode, whose stores live in the process. */
  redis: RedisConnection | undefined;
  store: PendingStore;
  counters: CounterStore;
  loginRequests: LoginRequestStore;
  idempotency: IdempotencyStore;
  box: SecretBox;
  /** Embedded mode: the demo client, on whose behalf the demo page (/demo/login) acts. */
  demoClientId?: string;
}

@Global()
@Module({})
class CoreModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: runtime.config },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: Clock, useValue: runtime.clock },
        // Closed by Nest after the HTTP server has drained (Database.onApplicationShutdown).
        { provide: Database, useValue: runtime.db },
        { provide: BatchedStatements, useValue: runtime.batches },
        { provide: Metrics, useValue: runtime.metrics },
        { provide: PendingStore, useValue: runtime.store },
        { provide: CounterStore, useValue: runtime.counters },
        { provide: LoginRequestStore, useValue: runtime.loginRequests },
        { provide: IdempotencyStore, useValue: runtime.idempotency },
        // After the bearer guard (keys are per client), before the pipes.
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        // Closed by Nest after the HTTP server has drained (RedisConnection.onApplicationShutdown).
        ...(runtime.redis === undefined ? [] : [{ provide: RedisConnection, useValue: runtime.redis }]),
        { provide: SecretBox, useValue: runtime.box },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [
        APP_CONFIG,
        LOGGER,
        Clock,
        Database,
        BatchedStatements,
        Metrics,
        PendingStore,
        CounterStore,
        LoginRequestStore,
        IdempotencyStore,
        SecretBox,
      ],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(runtime),
        AuthModule,
        AuditModule,
        DevicesModule,
        RecoveryModule,
        UsersModule,
        LoginModule,
        HealthModule,
        ObservabilityModule,
        ...(runtime.demoClientId === undefined ? [] : [DemoModule.forRoot(runtime.demoClientId)]),
      ],
    };
  }
}
