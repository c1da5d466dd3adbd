import { createHash } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import type { Logger } from 'pino';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { classify, DatabaseError } from './database-errors.js';

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
const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let name = names.get(text);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
};

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
    // Idle pooled connections emit errors when Postgres restarts; handled here, they never crash
    // the process, and the pool replaces them.
    pool.on('error', (error) => this.options.logger.warn({ err: error }, 'postgres pool connection error'));
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
      lease.client.release(lease.tainted);
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

  /** Pool figures for metrics: connections open, idle, and callers waiting for one. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.primary.totalCount, idle: this.primary.idleCount, waiting: this.primary.waitingCount };
  }

  private async once<T>(pool: pg.Pool, text: string, values: unknown[], options: QueryOptions): Promise<T[]> {
    const lease = await this.checkout(pool);
    try {
      return await this.run<T>(lease, text, values, options);
    } finally {
      lease.client.release(lease.tainted);
    }
  }

  private async checkout(pool: pg.Pool): Promise<Lease> {
    try {
      return { client: await pool.connect(), tainted: false };
    } catch (error) {
      throw new DependencyUnavailableError('postgres', classify(error));
    }
  }

  private run<T>(lease: Lease, text: string, values: unknown[], options: QueryOptions): Promise<T[]> {
    const prepared = this.options.preparedStatements && options.prepare !== false;
    const query: pg.QueryConfig = prepared ? { name: nameOf(text), text, values } : { text, values };
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return new Promise<T[]>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => {
        lease.tainted = true;
        this.cancel(lease.client);
        grace = setTimeout(
          () =>
            reject(new DependencyUnavailableError('postgres', new DatabaseError({ message: 'the statement did not stop after a cancel request' }))),
          CANCEL_GRACE_MS,
        );
      }, timeoutMs);
      lease.client.query<pg.QueryResultRow>(query).then(
        (result) => {
          clearTimeout(deadline);
          clearTimeout(grace);
          resolve(result.rows as T[]);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          clearTimeout(grace);
          const failure = classify(error);
          if (failure instanceof DependencyUnavailableError) lease.tainted = true;
          reject(failure);
        },
      );
    });
  }

  /** A protocol CancelRequest (PostgreSQL's, which PgBouncer forwards) for the statement running on `client`. */
  private cancel(client: pg.PoolClient): void {
    const { host, port, processID, secretKey } = client as pg.PoolClient & {
      host: string;
      port: number;
      processID: number | null;
      secretKey: number | null;
    };
    if (processID === null || secretKey === null) return;
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    // Written, then left for the server to close: PgBouncer drops a cancel whose sender has
    // already half-closed the connection.
    socket.setTimeout(this.options.timeoutMs, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(packet));
  }
}
