import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient, ErrorReply, type RedisClientType } from 'redis';
import { DependencyUnavailableError } from '../common/domain-error.js';
import { type ClaimOutcome, type CreateOutcome, type FailureOutcome, type PendingRegistration, PendingStore, type RemoveOutcome, type WindowCount } from './pending.store.js';

interface Script {
  source: string;
  sha: string;
}
const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });

// KEYS: registration, user index, client index. ARGV: now, expiresAt, ttlMs, perUser, perClient, authId, data, name.
const CREATE = script(`
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'USER_LIMIT' end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return 'CLIENT_LIMIT' end
redis.call('HSET', KEYS[1], 'data', ARGV[7], 'name', ARGV[8], 'failures', 0, 'lockedUntil', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[6])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return 'OK'`);

// KEYS: registration. ARGV: now, lockMs.
const CLAIM = script(`
local fields = redis.call('HMGET', KEYS[1], 'data', 'failures', 'lockedUntil', 'name')
if not fields[1] then return {'NOT_FOUND'} end
if tonumber(fields[3]) > tonumber(ARGV[1]) then return {'BUSY'} end
redis.call('HSET', KEYS[1], 'lockedUntil', tonumber(ARGV[1]) + tonumber(ARGV[2]))
return {'OK', fields[1], fields[2], fields[4]}`);

// KEYS: registration. ARGV: name.
const RENAME = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1])
return 1`);

// KEYS: registration, user index, client index. ARGV: maxAttempts, authId.
const FAIL = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND', 0} end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  return {'EXHAUSTED', 0}
end
redis.call('HSET', KEYS[1], 'lockedUntil', 0)
return {'REMAINING', tonumber(ARGV[1]) - n}`);

const RELEASE = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lockedUntil', 0) end
return 1`);

// KEYS: registration, user index, client index. ARGV: authId, now, evenIfClaimed (0/1).
const REMOVE = script(`
local lock = redis.call('HGET', KEYS[1], 'lockedUntil')
if not lock then return 0 end
if ARGV[3] == '0' and tonumber(lock) > tonumber(ARGV[2]) then return -1 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`);

const HIT = script(`
local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {n, t}`);

const PEEK = script(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}`);

// Replies that mean "Redis can't serve now" rather than "our command is wrong".
const OUTAGE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)/;

function decode(data: string, name: unknown): PendingRegistration {
  const registration = JSON.parse(data) as PendingRegistration;
  return typeof name === 'string' ? { ...registration, deviceName: name } : registration;
}

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
  logger: Logger;
}

/** The only code that talks to Redis. */
export class RedisPendingStore extends PendingStore {
  private client: RedisClientType;
  private readonly prefix: string;
  private readonly logger: Logger;

  private lastRecycle = 0;
  private lastErrorReport = 0;

  constructor(private readonly options: RedisStoreOptions) {
    super();
    this.prefix = options.keyPrefix;
    this.logger = options.logger;
    this.client = this.newClient();
  }

  private newClient(): RedisClientType {
    const client: RedisClientType = createClient({
      url: this.options.url,
      // Commands issued while disconnected fail at once instead of queueing and running later
      // (a "ghost write" after the caller already got a 503).
      disableOfflineQueue: true,
      // No per-command timeout (node-redis 6 defaults to 5 s): it would only cover commands not yet
      // written, and it costs an AbortSignal.timeout per command (7 % of the service's CPU on
      // activation in the profile); run() puts one deadline on every call instead.
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
      const now = Date.now();
      if (now - this.lastErrorReport > 5000) {
        this.lastErrorReport = now;
        this.logger.warn({ err: error }, 'redis connection error');
      }
    });
    client.on('ready', () => this.logger.info('redis connected'));
    return client;
  }

  /**
   * node-redis's command timeout only covers commands not yet written; a command written to a
   * hung server (SIGSTOP, a dead peer without RST) waits forever. On our own deadline the
   * connection is dropped and a new one made, so the queue cannot stay stuck behind it.
   */
  private recycle(): void {
    const now = Date.now();
    if (now - this.lastRecycle < this.options.timeoutMs) return;
    this.lastRecycle = now;
    this.logger.warn('redis did not answer in time; reconnecting');
    const old = this.client;
    this.client = this.newClient();
    this.connect();
    old.destroy();
  }

  /** Starts connecting; does not wait, so the service can start (not ready) while Redis is down. */
  connect(): void {
    this.client.connect().catch((error: unknown) => this.logger.warn({ err: error }, 'redis connect failed'));
  }

  override async close(): Promise<void> {
    if (this.client.isOpen) {
      try {
        await this.client.close();
      } catch {
        this.client.destroy();
      }
    }
  }

  private regKey = (clientId: string, authId: string) => `${this.prefix}reg:${clientId}:${authId}`;
  private userIndex = (clientId: string, userId: string) => `${this.prefix}ureg:${clientId}:${userId}`;
  private clientIndex = (clientId: string) => `${this.prefix}creg:${clientId}`;
  private counterKey = (name: string) => `${this.prefix}cnt:${name}`;

  private async run<T>(action: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.recycle();
        reject(new Error(`redis did not answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([action(), deadline]);
    } catch (error) {
      if (error instanceof ErrorReply && !OUTAGE_REPLIES.test(error.message)) throw error;
      throw new DependencyUnavailableError('redis', error);
    } finally {
      clearTimeout(timer);
    }
  }

  private async eval<T>(s: Script, keys: string[], args: Array<string | number>): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return (await this.client.sendCommand(['EVALSHA', s.sha, ...tail]));
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await this.client.sendCommand(['EVAL', s.source, ...tail]));
    }
  }

  private registrationKeys(r: { clientId: string; userId: string; authId: string }): string[] {
    return [this.regKey(r.clientId, r.authId), this.userIndex(r.clientId, r.userId), this.clientIndex(r.clientId)];
  }

  override create(r: PendingRegistration, limits: { perUser: number; perClient: number }): Promise<CreateOutcome> {
    return this.run(() =>
      this.eval<CreateOutcome>(CREATE, this.registrationKeys(r), [
        Date.now(),
        r.expiresAt,
        Math.max(1, r.expiresAt - Date.now()),
        limits.perUser,
        limits.perClient,
        r.authId,
        JSON.stringify(r),
        r.deviceName,
      ]),
    );
  }

  private async read(key: string): Promise<PendingRegistration | undefined> {
    const [data, name] = await this.client.hmGet(key, ['data', 'name']);
    return typeof data === 'string' ? decode(data, name) : undefined;
  }

  override get(clientId: string, authId: string): Promise<PendingRegistration | undefined> {
    return this.run(() => this.read(this.regKey(clientId, authId)));
  }

  override listForUser(clientId: string, userId: string): Promise<PendingRegistration[]> {
    return this.run(async () => {
      const ids = await this.client.zRangeByScore(this.userIndex(clientId, userId), Date.now(), '+inf');
      const rows = await Promise.all(ids.map((id) => this.read(this.regKey(clientId, id))));
      return rows.filter((r): r is PendingRegistration => r !== undefined);
    });
  }

  override rename(clientId: string, authId: string, deviceName: string): Promise<boolean> {
    return this.run(async () => (await this.eval<number>(RENAME, [this.regKey(clientId, authId)], [deviceName])) === 1);
  }

  override claim(clientId: string, authId: string, lockMs: number): Promise<ClaimOutcome> {
    return this.run(async () => {
      const [status, data, failures, name] = await this.eval<[string, string?, string?, string?]>(CLAIM, [this.regKey(clientId, authId)], [Date.now(), lockMs]);
      if (status === 'OK' && data !== undefined) {
        return { status: 'OK', registration: decode(data, name), failures: Number(failures ?? 0) };
      }
      return status === 'BUSY' ? { status: 'BUSY' } : { status: 'NOT_FOUND' };
    });
  }

  override recordFailure(clientId: string, authId: string, maxAttempts: number): Promise<FailureOutcome> {
    return this.run(async () => {
      const registration = await this.get(clientId, authId);
      if (registration === undefined) return { status: 'NOT_FOUND' };
      const [status, remaining] = await this.eval<[string, number]>(FAIL, this.registrationKeys(registration), [maxAttempts, authId]);
      if (status === 'REMAINING') return { status: 'REMAINING', remaining };
      return status === 'EXHAUSTED' ? { status: 'EXHAUSTED' } : { status: 'NOT_FOUND' };
    });
  }

  override release(clientId: string, authId: string): Promise<void> {
    return this.run(async () => {
      await this.eval(RELEASE, [this.regKey(clientId, authId)], []);
    });
  }

  override remove(clientId: string, authId: string, options: { evenIfClaimed?: boolean; userId?: string } = {}): Promise<RemoveOutcome> {
    return this.run(async () => {
      const userId = options.userId ?? (await this.read(this.regKey(clientId, authId)))?.userId;
      if (userId === undefined) return 'NOT_FOUND';
      const result = await this.eval<number>(REMOVE, this.registrationKeys({ clientId, userId, authId }), [authId, Date.now(), options.evenIfClaimed === true ? 1 : 0]);
      return result === 1 ? 'REMOVED' : result === -1 ? 'BUSY' : 'NOT_FOUND';
    });
  }

  override hit(counter: string, windowMs: number): Promise<WindowCount> {
    return this.run(async () => {
      const [count, ttl] = await this.eval<[number, number]>(HIT, [this.counterKey(counter)], [windowMs]);
      return { count, resetInMs: ttl };
    });
  }

  override peek(counter: string): Promise<WindowCount> {
    return this.run(async () => {
      const [count, ttl] = await this.eval<[number, number]>(PEEK, [this.counterKey(counter)], []);
      return { count, resetInMs: Math.max(0, ttl) };
    });
  }

  override reset(counter: string): Promise<void> {
    return this.run(async () => {
      await this.client.del(this.counterKey(counter));
    });
  }

  override ping(): Promise<void> {
    return this.run(async () => {
      await this.client.ping();
    });
  }
}
