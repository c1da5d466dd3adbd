import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorReply } from 'redis';
import { DependencyUnavailableError } from '../common/domain-error.js';
import type { RedisConfig } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { timed } from './redis-metrics.js';
import { createTopology, type RedisTopology } from './redis-topology.js';

export interface RedisScript {
  source: string;
  sha: string;
}

/** A Lua script, sent by its SHA1 (EVALSHA) and loaded on first use on each node (EVAL on NOSCRIPT). */
export const redisScript = (source: string): RedisScript => ({ source, sha: createHash('sha1').update(source).digest('hex') });

/** What a store does with Redis inside run(): commands and scripts routed by their first key. */
export interface RedisCommands {
  send<T>(firstKey: string, args: string[]): Promise<T>;
  eval<T>(script: RedisScript, keys: string[], args: Array<string | number>): Promise<T>;
}

// Replies that mean "Redis can't serve now" rather than "our command is wrong": a node loading, a
// replica after a failover (READONLY), a cluster reshaping (TRYAGAIN, CLUSTERDOWN, MOVED/ASK past
// the redirection limit), memory full.
const OUTAGE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM|MOVED|ASK)/;

export interface RedisConnectionOptions {
  config: RedisConfig;
  timeoutMs: number;
  logger: Logger;
  /** Each command's duration and failure (db_client_operation_duration_seconds). */
  metrics?: Metrics;
}

/**
 * The one Redis connection of a replica (standalone, cluster or sentinel), shared by the stores
 * (one per Redis concern). It owns the client's lifecycle: connecting without blocking start-up, a
 * deadline on every call (a hung server answers 503 in time), replacing a connection that stopped
 * answering or now points at a replica, and telling an outage (503) from a bug.
 */
export class RedisConnection {
  private topology: RedisTopology;
  private lastRecycle = -Infinity;
  private lastErrorReport = -Infinity;
  private closed = false;
  /** Set when the server is not what REDIS_MODE says (a cluster node in standalone mode). */
  private misconfigured: string | undefined;
  private readonly probeKey = `health:${randomUUID()}`;
  private readonly commands: RedisCommands;

  constructor(private readonly options: RedisConnectionOptions) {
    this.topology = this.newTopology();
    this.commands = {
      send: <T>(firstKey: string, args: string[]) => timed(this.options.metrics, args[0], this.topology.send<T>(firstKey, args)),
      eval: <T>(script: RedisScript, keys: string[], args: Array<string | number>) =>
        timed(this.options.metrics, 'EVALSHA', this.evalScript<T>(script, keys, args)),
    };
  }

  /** A configuration error found on the server (see verifyMode), if any. */
  get problem(): string | undefined {
    return this.misconfigured;
  }

  get mode(): RedisConfig['mode'] {
    return this.options.config.mode;
  }

  private newTopology(): RedisTopology {
    const topology = createTopology(this.options.config, this.options.timeoutMs);
    topology.on('error', (error) => {
      // An outage emits an error per reconnect attempt; report it at most every 5 s.
      const now = performance.now();
      if (now - this.lastErrorReport > 5000) {
        this.lastErrorReport = now;
        this.options.logger.warn({ err: error }, 'redis connection error');
      }
    });
    topology.on('ready', () => {
      this.options.logger.info({ mode: this.mode }, 'redis connected');
      this.verifyMode().catch(() => undefined);
    });
    return topology;
  }

  /** Starts connecting; does not wait, so the service can start (not ready) while Redis is down. */
  connect(): void {
    this.topology.connect().catch((error: unknown) => this.options.logger.warn({ err: error }, 'redis connect failed'));
  }

  /**
   * A standalone client pointed at a node of a Redis Cluster would answer MOVED for most keys: that
   * is a configuration error. Returns it, named (at start-up it stops the service; found later, it
   * keeps the service not ready), or undefined when the server is what REDIS_MODE says.
   */
  async verifyMode(): Promise<string | undefined> {
    if (this.mode !== 'standalone') return undefined;
    const info = String(await this.topology.send<unknown>('', ['INFO', 'server']));
    if (!/redis_mode:cluster/.test(info)) return undefined;
    this.misconfigured = 'REDIS_URL points at a node of a Redis Cluster: set REDIS_MODE=cluster and REDIS_CLUSTER_NODES';
    this.options.logger.error(this.misconfigured);
    return this.misconfigured;
  }

  /**
   * node-redis's command timeout only covers commands not yet written; a command written to a
   * hung server waits until the socket is declared dead. On our own deadline (or a READONLY reply:
   * the server became a replica, as after a failover behind one address) the client is replaced.
   */
  private recycle(reason: string): void {
    const now = performance.now();
    if (this.closed || now - this.lastRecycle < this.options.timeoutMs) return;
    this.lastRecycle = now;
    this.options.logger.warn({ reason }, 'reconnecting to redis');
    const old = this.topology;
    this.topology = this.newTopology();
    this.connect();
    old.destroy();
  }

  /** Nest lifecycle: after the HTTP server has drained. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.topology.close();
    } catch {
      this.topology.destroy();
    }
  }

  /** Runs Redis calls under one deadline; an outage becomes DependencyUnavailableError (503). */
  async run<T>(action: (redis: RedisCommands) => Promise<T>): Promise<T> {
    if (this.closed) throw new DependencyUnavailableError('redis', new Error('the Redis connection is closed'));
    if (this.misconfigured !== undefined) throw new DependencyUnavailableError('redis', new Error(this.misconfigured));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.recycle('no answer in time');
        this.options.metrics?.dependencyCall('redis', 'CALL', this.options.timeoutMs / 1000, 'timeout');
        reject(new Error(`redis did not answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([action(this.commands), deadline]);
    } catch (error) {
      if (error instanceof ErrorReply && !OUTAGE_REPLIES.test(error.message)) throw error;
      if (error instanceof ErrorReply && error.message.startsWith('READONLY') && this.mode === 'standalone') this.recycle('the server is a replica');
      throw new DependencyUnavailableError('redis', error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** EVALSHA, then EVAL on NOSCRIPT: both routed by the first key, so to the node that answered NOSCRIPT. */
  private async evalScript<T>(script: RedisScript, keys: string[], args: Array<string | number>): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.topology.send<T>(keys[0], ['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.topology.send<T>(keys[0], ['EVAL', script.source, ...tail]);
    }
  }

  /** Readiness: a real write with a short TTL, so a Redis that answers PING but refuses writes is DOWN. */
  probe(prefix: string): Promise<void> {
    return this.run(async (redis) => {
      const key = `${prefix}${this.probeKey}`;
      await redis.send(key, ['SET', key, '1', 'PX', '5000']);
    });
  }

  /** A connection for subscriptions (pub/sub), of the same topology. */
  subscriber(): RedisTopology {
    return this.topology.subscriber();
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.run(() => this.topology.publish(channel, message));
  }
}
