import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient, ErrorReply, type RedisClientType } from 'redis';
import { DependencyUnavailableError } from '../common/domain-error.js';

export interface RedisScript {
  source: string;
  sha: string;
}

/** A Lua script, sent by its SHA1 (EVALSHA) and loaded on first use (EVAL on NOSCRIPT). */
export const redisScript = (source: string): RedisScript => ({ source, sha: createHash('sha1').update(source).digest('hex') });

// Replies that mean "Redis can't serve now" rather than "our command is wrong".
const OUTAGE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)/;

export interface RedisConnectionOptions {
  url: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * The one Redis connection of a replica, shared by the stores (one per Redis concern). It owns the
 * client's lifecycle: connecting without blocking start-up, a deadline on every call (a hung server
 * answers 503 in time), recycling a connection that stopped answering, and telling an outage (503)
 * from a bug.
 */
export class RedisConnection {
  private client: RedisClientType;
  private lastRecycle = -Infinity;
  private lastErrorReport = -Infinity;
  private closed = false;
  private readonly probeKey = `health:${randomUUID()}`;

  constructor(private readonly options: RedisConnectionOptions) {
    this.client = this.newClient();
  }

  private newClient(): RedisClientType {
    const client: RedisClientType = createClient({
      url: this.options.url,
      // Commands issued while disconnected fail at once instead of queueing and running later
      // (a "ghost write" after the caller already got a 503).
      disableOfflineQueue: true,
      // No per-command timeout (node-redis 6 defaults to 5 s): it would only cover commands not yet
      // written, and it costs an AbortSignal.timeout per command (measurable in the profile, see
      // bench/README.md); run() puts one deadline on every call instead.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.options.timeoutMs,
        // Reconnect on every cause, forever, with a short capped back-off: the service must
        // recover by itself when Redis comes back.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500),
      },
    });
    client.on('error', (error: unknown) => {
      // An outage emits an error per reconnect attempt; report it at most every 5 s.
      const now = performance.now();
      if (now - this.lastErrorReport > 5000) {
        this.lastErrorReport = now;
        this.options.logger.warn({ err: error }, 'redis connection error');
      }
    });
    client.on('ready', () => this.options.logger.info('redis connected'));
    return client;
  }

  /**
   * node-redis's command timeout only covers commands not yet written; a command written to a
   * hung server (SIGSTOP, a dead peer without RST) waits forever. On our own deadline the
   * connection is dropped and a new one made, so the queue cannot stay stuck behind it.
   */
  private recycle(reason: string): void {
    const now = performance.now();
    if (this.closed || now - this.lastRecycle < this.options.timeoutMs) return;
    this.lastRecycle = now;
    this.options.logger.warn({ reason }, 'reconnecting to redis');
    const old = this.client;
    this.client = this.newClient();
    this.connect();
    old.destroy();
  }

  /** Starts connecting; does not wait, so the service can start (not ready) while Redis is down. */
  connect(): void {
    this.client.connect().catch((error: unknown) => this.options.logger.warn({ err: error }, 'redis connect failed'));
  }

  /** Nest lifecycle: after the HTTP server has drained. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.client.isOpen) return;
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  /** Runs Redis calls under one deadline; an outage becomes DependencyUnavailableError (503). */
  async run<T>(action: (client: RedisClientType) => Promise<T>): Promise<T> {
    if (this.closed) throw new DependencyUnavailableError('redis', new Error('the Redis connection is closed'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.recycle('no answer in time');
        reject(new Error(`redis did not answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([action(this.client), deadline]);
    } catch (error) {
      if (error instanceof ErrorReply && !OUTAGE_REPLIES.test(error.message)) throw error;
      throw new DependencyUnavailableError('redis', error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A Lua script by SHA, loaded on NOSCRIPT. Call inside run(). */
  async eval<T>(client: RedisClientType, script: RedisScript, keys: string[], args: Array<string | number>): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand<T>(['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand<T>(['EVAL', script.source, ...tail]);
    }
  }

  /** Readiness: a real write with a short TTL, so a Redis that answers PING but refuses writes is DOWN. */
  probe(prefix: string): Promise<void> {
    return this.run(async (client) => {
      await client.set(`${prefix}${this.probeKey}`, '1', { expiration: { type: 'PX', value: 5000 } });
    });
  }
}
