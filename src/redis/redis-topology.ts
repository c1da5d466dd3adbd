import { createClient, createCluster, createSentinel, type RedisClientType, type RedisClusterType, type RedisSentinelType } from 'redis';
import type { RedisConfig } from '../config/config.js';

/** One command, routed by its first key (which node owns it, in a cluster). */
export type SendCommand = <T>(firstKey: string, args: string[]) => Promise<T>;

type Handle =
  | { mode: 'standalone'; connection: RedisClientType }
  | { mode: 'cluster'; connection: RedisClusterType }
  | { mode: 'sentinel'; connection: RedisSentinelType };

export interface RedisTopology {
  readonly mode: RedisConfig['mode'];
  send: SendCommand;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error' | 'ready', listener: (arg?: unknown) => void): void;
  /** A second connection of the same topology for subscriptions (standalone: a duplicate). */
  subscriber(): RedisTopology;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * The node-redis client for the configured topology, created with the service's policy:
 * - commands never queue while disconnected (no "ghost write" after the caller got a 503);
 * - no per-command timeout (it only covers commands not yet written; RedisConnection puts one
 *   deadline on every call instead), but a socket that stays silent past the PING interval is
 *   declared dead, so a hung node (SIGSTOP, a dead peer without RST) is replaced;
 * - reconnection on every cause, forever, with a short capped back-off.
 */
export function createTopology(config: RedisConfig, timeoutMs: number): RedisTopology {
  const socket = {
    connectTimeout: timeoutMs,
    socketTimeout: Math.max(3000, 3 * timeoutMs),
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500),
    ...(config.tls || config.ca !== undefined ? { tls: true as const, ca: config.ca } : {}),
  };
  const node = { username: config.username, password: config.password, disableOfflineQueue: true, pingInterval: 1000, socket };
  const commandOptions = { timeout: 0 };
  let handle: Handle;
  switch (config.mode) {
    case 'standalone':
      handle = {
        mode: 'standalone',
        connection: createClient({
          url: config.url,
          ...node,
          commandOptions,
          socket: { ...socket, ...(config.url.startsWith('rediss:') ? { tls: true as const } : {}) },
        }),
      };
      break;
    case 'cluster':
      handle = {
        mode: 'cluster',
        connection: createCluster({
          rootNodes: config.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
          defaults: node,
          commandOptions,
          // Pick up a new master soon after a node stops answering (the default waits 5 s).
          topologyRefreshOnReconnectionAttemptStrategy: 1000,
        }),
      };
      break;
    case 'sentinel':
      handle = {
        mode: 'sentinel',
        connection: createSentinel({
          name: config.name,
          sentinelRootNodes: config.sentinels,
          nodeClientOptions: node,
          sentinelClientOptions: { password: config.sentinelPassword, socket },
          commandOptions,
          scanInterval: 10_000,
        }),
      };
      break;
  }
  return wrap(handle, config, timeoutMs);
}

function wrap(handle: Handle, config: RedisConfig, timeoutMs: number): RedisTopology {
  const send: SendCommand = <T>(firstKey: string, args: string[]) => {
    switch (handle.mode) {
      case 'standalone':
        return handle.connection.sendCommand<T>(args);
      case 'cluster':
        return handle.connection.sendCommand<T>(firstKey, false, args);
      case 'sentinel':
        return handle.connection.sendCommand<T>(false, args);
    }
  };
  const connection = handle.connection as unknown as {
    connect(): Promise<unknown>;
    close(): Promise<void>;
    destroy(): void;
    on(event: string, listener: (arg?: unknown) => void): void;
    subscribe(channel: string, listener: (message: string) => void): Promise<void>;
    publish(channel: string, message: string): Promise<unknown>;
  };
  return {
    mode: handle.mode,
    send,
    connect: () => connection.connect(),
    close: () => connection.close(),
    destroy: () => connection.destroy(),
    on: (event, listener) => connection.on(event, listener),
    subscriber: () =>
      handle.mode === 'standalone'
        ? wrap({ mode: 'standalone', connection: handle.connection.duplicate() }, config, timeoutMs)
        : createTopology(config, timeoutMs),
    subscribe: (channel, listener) => connection.subscribe(channel, listener),
    publish: (channel, message) => connection.publish(channel, message),
  };
}
