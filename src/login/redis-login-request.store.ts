import type { Logger } from 'pino';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { RedisTopology } from '../redis/redis-topology.js';
import { RedisUserIndex } from '../redis/user-index.js';
import { ChangeWaiters } from './change-waiters.js';
import type { LoginDecision, LoginRequest, StoredLoginState } from './login-request.js';
import { CLAIM, CREATE, REDEEM, RELEASE, SETTLE } from './login-scripts.js';
import { type ClaimOutcome, LoginRequestStore, type RedeemOutcome, type SettleOutcome } from './login-request.store.js';

type StaticPart = Omit<LoginRequest, 'state' | 'failures' | 'decidedBy' | 'decidedAt' | 'redeemedAt'>;

/** A hash as scripts answer it (flat field, value, …) or as HGETALL does (an object). */
function fromFields(hash: string[] | Record<string, string>): LoginRequest {
  const f = new Map<string, string>();
  if (Array.isArray(hash)) for (let i = 0; i + 1 < hash.length; i += 2) f.set(hash[i] ?? '', hash[i + 1] ?? '');
  else for (const [name, value] of Object.entries(hash)) f.set(name, value);
  const optionalNumber = (name: string) => (f.has(name) ? Number(f.get(name)) : null);
  return {
    ...(JSON.parse(f.get('data') ?? '{}') as StaticPart),
    state: f.get('state') as StoredLoginState,
    failures: Number(f.get('failures') ?? 0),
    decidedBy: f.get('decidedBy') ?? null,
    decidedAt: optionalNumber('decidedAt'),
    redeemedAt: optionalNumber('redeemedAt'),
  };
}

export class RedisLoginRequestStore extends LoginRequestStore {
  private readonly waiters = new ChangeWaiters();
  private readonly channel: string;
  /** A user's requests, for erasing the user. */
  private readonly users: RedisUserIndex;
  private subscription: { topology: RedisTopology; ready: Promise<void> } | undefined;
  private lastSubscriberError = -Infinity;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {
    super();
    this.channel = `${prefix}login-decided`;
    this.users = new RedisUserIndex(prefix, 'ulogin', 'userId');
  }

  // Tagged by request, not by client: each script touches one key, and a big tenant's logins spread over the cluster.
  private key = (clientId: string, requestId: string) => `${this.prefix}login:${clientId}:{${requestId}}`;

  override create(request: LoginRequest, keepMs: number): Promise<void> {
    const fixed: StaticPart = {
      requestId: request.requestId,
      clientId: request.clientId,
      userId: request.userId,
      boundDeviceId: request.boundDeviceId,
      challenge: request.challenge,
      ocraSuite: request.ocraSuite,
      display: request.display,
      createdAt: request.createdAt,
      expiresAt: request.expiresAt,
    };
    const key = this.key(request.clientId, request.requestId);
    const fields = {
      data: JSON.stringify(fixed),
      userId: request.userId,
      expiresAt: String(request.expiresAt),
      state: request.state,
      failures: String(request.failures),
    };
    return this.redis.run(async (redis) => {
      await this.users.add(redis, request.clientId, request.userId, request.requestId, keepMs);
      await redis.eval(CREATE, [key], [keepMs, ...Object.entries(fields).flat()]);
    });
  }

  override eraseUser(clientId: string, userId: string): Promise<void> {
    return this.redis.run((redis) => this.users.erase(redis, clientId, userId, (requestId) => this.key(clientId, requestId)));
  }

  override get(clientId: string, userId: string, requestId: string): Promise<LoginRequest | undefined> {
    const key = this.key(clientId, requestId);
    return this.redis.run(async (redis) => {
      const hash = await redis.send<string[] | Record<string, string>>(key, ['HGETALL', key]);
      if (Object.keys(hash).length === 0) return undefined;
      const request = fromFields(hash);
      return request.userId === userId ? request : undefined;
    });
  }

  override claim(clientId: string, userId: string, requestId: string, nowMs: number, lockMs: number): Promise<ClaimOutcome> {
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    return this.redis.run(async (redis) => {
      const [outcome, ...flat] = await redis.eval<string[]>(CLAIM, [this.key(clientId, requestId)], [userId, nowMs, lockMs, token]);
      if (outcome === 'CLAIMED') return { status: 'CLAIMED', request: fromFields(flat), token };
      if (outcome === 'CLOSED') return { status: 'CLOSED', request: fromFields(flat) };
      return { status: outcome === 'BUSY' ? 'BUSY' : 'NOT_FOUND' };
    });
  }

  override decide(
    clientId: string,
    requestId: string,
    token: string,
    decision: LoginDecision,
    deviceId: string,
    nowMs: number,
  ): Promise<SettleOutcome> {
    return this.settle(clientId, requestId, [token, decision, deviceId, nowMs, 0]);
  }

  override fail(clientId: string, requestId: string, token: string, maxFailures: number, nowMs: number): Promise<SettleOutcome> {
    return this.settle(clientId, requestId, [token, 'WRONG', '', nowMs, maxFailures]);
  }

  private settle(clientId: string, requestId: string, args: Array<string | number>): Promise<SettleOutcome> {
    return this.redis.run(async (redis) => {
      const [outcome, ...flat] = await redis.eval<string[]>(
        SETTLE,
        [this.key(clientId, requestId)],
        [...args, this.channel, `${clientId}:${requestId}`],
      );
      if (outcome === 'NOT_FOUND') return { status: 'NOT_FOUND' };
      return { status: outcome as 'DECIDED' | 'COUNTED' | 'EXPIRED' | 'CLOSED', request: fromFields(flat) };
    });
  }

  override release(clientId: string, requestId: string, token: string): Promise<void> {
    return this.redis.run(async (redis) => void (await redis.eval(RELEASE, [this.key(clientId, requestId)], [token])));
  }

  override redeem(clientId: string, userId: string, requestId: string, nowMs: number): Promise<RedeemOutcome> {
    return this.redis.run(async (redis) => {
      const [outcome, ...flat] = await redis.eval<string[]>(REDEEM, [this.key(clientId, requestId)], [userId, nowMs]);
      if (outcome === 'NOT_FOUND') return { status: 'NOT_FOUND' };
      return { status: outcome === 'REDEEMED' ? 'REDEEMED' : 'REFUSED', request: fromFields(flat) };
    });
  }

  /**
   * Pub/sub rather than keyspace notifications: these need notify-keyspace-events set on every
   * node (managed Redis often forbids CONFIG SET), and fire on every field change. A message lost
   * (the subscriber reconnecting) costs a waiter at most the service's re-check interval.
   */
  override async watch(clientId: string, requestId: string) {
    const registration = this.waiters.register(`${clientId}:${requestId}`);
    // Without the subscription (not there in time, or failed) the wait still ends at the
    // service's re-check: slower, never wrong.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.subscribed(), new Promise((resolve) => (timer = setTimeout(resolve, this.timeoutMs)))]);
    } catch (error) {
      this.reportSubscriberError(error);
    } finally {
      clearTimeout(timer);
    }
    return registration;
  }

  private subscribed(): Promise<void> {
    if (this.subscription === undefined) {
      const topology = this.redis.subscriber();
      topology.on('error', (error) => this.reportSubscriberError(error));
      const ready = topology.connect().then(() => topology.subscribe(this.channel, (message) => this.waiters.wake(message)));
      this.subscription = { topology, ready };
      ready.catch(() => {
        // Tried again by the next watch; this connection is given up.
        if (this.subscription?.topology === topology) this.subscription = undefined;
        topology.destroy();
      });
    }
    return this.subscription.ready;
  }

  private reportSubscriberError(error: unknown): void {
    const now = performance.now();
    if (now - this.lastSubscriberError < 5000) return;
    this.lastSubscriberError = now;
    this.logger.warn({ err: error }, 'login-request subscription unavailable; long-polls fall back to re-reading');
  }

  override wakeAll(): void {
    this.waiters.wakeAll();
  }

  override async close(): Promise<void> {
    this.waiters.wakeAll();
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription === undefined) return;
    try {
      await subscription.topology.close();
    } catch {
      subscription.topology.destroy();
    }
  }
}
