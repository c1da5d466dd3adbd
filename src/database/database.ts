import pg from 'pg';
import type { Logger } from 'pino';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { sendCancelRequest } from './cancel-request.js';
import { classify, DatabaseError, errorTypeOf } from './database-errors.js';
import { nameOf, operationOf } from './statement-names.js';
import { type Metrics, NO_METRICS } from '../observability/metrics.js';

export interface DatabaseOptions {
  url: string;
  /** A read replica for reads that may lag (lists, events); the primary when absent. */
  readUrl?: string;
  poolSize: number;
  /** The longest a statement may run (and a connection may take to come) before it is an outage. */
  timeoutMs: number;
  /** Named (prepared) statements; off for poolers that do not support them (PgBouncer before 1.21). */
  preparedStatements: boolean;
  logger: Logger;
  /** Each statement's duration and failure (db_client_operation_duration_seconds). */
  metrics?: Metrics;
}

export interface QueryOptions {
  /** Overrides the statement deadline (a maintenance statement that may run long). */
  timeoutMs?: number;
  /** False for text that varies (a multi-row VALUES list): not worth preparing. */
  prepare?: boolean;
}

/** Anything statements can run on: the database, or one transaction of it. */
export interface Queryable {
  query<T>(text: string, values: unknown[], options?: QueryOptions): Promise<T[]>;
}

// After a cancel request, how long the statement gets to stop before its connection is dropped.
const CANCEL_GRACE_MS = 500;

// Connections that failed while leased: released with an error, so the pool drops them.
const lost = new WeakSet<pg.PoolClient>();

interface Lease {
  client: pg.PoolClient;
  /** A cancel was sent or the connection failed: it is dropped, never reused. */
  tainted: boolean;
}

/**
 * The one way to Postgres for queries: node-postgres pools (a primary, and a read replica when
 * configured) behind plain parameterised statements. Every statement has a deadline kept by the
 * service itself, not by a `statement_timeout` startup parameter (PgBouncer refuses those, and a
 * session setting would leak through a transaction pooler): at the deadline a cancel request stops
 * the statement, which then answers 503, so a statement the caller was told failed does not commit
 * later; a server that does not even answer the cancel loses the connection.
 */
export class Database implements Queryable {
  private readonly primary: pg.Pool;
  private readonly replica: pg.Pool | undefined;

  constructor(private readonly options: DatabaseOptions) {
    this.primary = this.createPool(options.url);
    this.replica = options.readUrl === undefined ? undefined : this.createPool(options.readUrl);
  }

  private createPool(connectionString: string): pg.Pool {
    const pool = new pg.Pool({
      connectionString,
      max: this.options.poolSize,
      connectionTimeoutMillis: this.options.timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'totp-device-registration',
    });
    // Idle pooled connections emit errors when Postgres restarts: handled, they never crash the process (the pool replaces them).
    pool.on('error', (error) => this.options.logger.warn({ err: classify(error) }, 'postgres pool connection error'));
    // The pool listens for a connection's errors only while it is idle. One that Postgres ends while
    // it is leased (a restart, pg_terminate_backend), even in the same packet that completed its
    // connect, would emit 'error' unheard and end the process: listened for from the moment of
    // acquisition, and the connection is dropped at release.
    const onLeasedError = (client: pg.PoolClient) => (error: Error) => {
      lost.add(client);
      this.options.logger.warn({ err: classify(error) }, 'postgres connection lost while in use');
    };
    const listeners = new WeakMap<pg.PoolClient, (error: Error) => void>();
    pool.on('acquire', (client) => {
      const listener = listeners.get(client) ?? onLeasedError(client);
      listeners.set(client, listener);
      client.on('error', listener);
    });
    pool.on('release', (_error, client) => client.removeListener('error', listeners.get(client)!));
    return pool;
  }

  /** What is in force, for the start-up log. */
  describe(): Record<string, unknown> {
    return {
      statementTimeoutMs: this.options.timeoutMs,
      statementTimeout: 'enforced by the service: a cancel request at the deadline (no server setting, so it holds through a pooler)',
      preparedStatements: this.options.preparedStatements,
      readReplica: this.replica !== undefined,
    };
  }

  query<T>(text: string, values: unknown[], options: QueryOptions = {}): Promise<T[]> {
    return this.once(this.primary, text, values, options);
  }

  /** A read that may be served by the replica (lists, events). */
  read<T>(text: string, values: unknown[], options: QueryOptions = {}): Promise<T[]> {
    return this.once(this.replica ?? this.primary, text, values, options);
  }

  /** Runs `work` in one transaction on one connection (also through a transaction pooler). */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const lease = await this.checkout(this.primary);
    try {
      await this.run(lease, 'BEGIN', [], { prepare: false });
      const tx: Queryable = { query: (text, values, options = {}) => this.run(lease, text, values, options) };
      const result = await work(tx);
      await this.run(lease, 'COMMIT', [], { prepare: false });
      return result;
    } catch (error) {
      if (!lease.tainted) await this.run(lease, 'ROLLBACK', [], { prepare: false }).catch(() => (lease.tainted = true));
      throw error;
    } finally {
      this.release(lease);
    }
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    this.closing ??= Promise.all([this.primary.end(), this.replica?.end()]).then(() => undefined);
    return this.closing;
  }

  /** Nest lifecycle: after the HTTP server has drained. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Pool figures for metrics: its size, connections open and idle, callers waiting for one. */
  poolStats(): { max: number; total: number; idle: number; waiting: number } {
    return { max: this.options.poolSize, total: this.primary.totalCount, idle: this.primary.idleCount, waiting: this.primary.waitingCount };
  }

  private async once<T>(pool: pg.Pool, text: string, values: unknown[], options: QueryOptions): Promise<T[]> {
    const lease = await this.checkout(pool);
    try {
      return await this.run<T>(lease, text, values, options);
    } finally {
      this.release(lease);
    }
  }

  private async checkout(pool: pg.Pool): Promise<Lease> {
    try {
      return { client: await pool.connect(), tainted: false };
    } catch (error) {
      this.options.metrics?.dependencyCall('postgresql', 'connect', 0, 'unavailable');
      throw new DependencyUnavailableError('postgres', classify(error));
    }
  }

  private release(lease: Lease): void {
    lease.client.release(lease.tainted || lost.has(lease.client));
  }

  private run<T>(lease: Lease, text: string, values: unknown[], options: QueryOptions): Promise<T[]> {
    const prepared = this.options.preparedStatements && options.prepare !== false;
    const query: pg.QueryConfig = prepared ? { name: nameOf(text), text, values } : { text, values };
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const [metrics, started] = [this.options.metrics ?? NO_METRICS, performance.now()];
    return new Promise<T[]>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => {
        lease.tainted = true;
        sendCancelRequest(lease.client, this.options.timeoutMs);
        grace = setTimeout(() => {
          metrics.dependencyCall('postgresql', operationOf(text), (performance.now() - started) / 1000, 'timeout');
          reject(new DependencyUnavailableError('postgres', new DatabaseError({ message: 'the statement did not stop after a cancel request' })));
        }, CANCEL_GRACE_MS);
      }, timeoutMs);
      lease.client.query<pg.QueryResultRow>(query).then(
        (result) => {
          clearTimeout(deadline);
          clearTimeout(grace);
          if (metrics.enabled) metrics.dependencyCall('postgresql', operationOf(text), (performance.now() - started) / 1000);
          resolve(result.rows as T[]);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          clearTimeout(grace);
          const failure = classify(error);
          if (failure instanceof DependencyUnavailableError) lease.tainted = true;
          if (metrics.enabled) metrics.dependencyCall('postgresql', operationOf(text), (performance.now() - started) / 1000, errorTypeOf(failure));
          reject(failure);
        },
      );
    });
  }
}
