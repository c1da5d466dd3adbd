import { type RedisConnection, redisScript } from '../redis/redis-connection.js';
import { CounterStore, type Reservation, type WindowCount } from './counter.store.js';

// KEYS: counter. ARGV: windowMs.
const HIT = redisScript(`
local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {n, t}`);

// KEYS: counter. ARGV: limit, windowMs. Returns {granted (0/1), count, ttl}.
const RESERVE = redisScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = redis.call('PTTL', KEYS[1])
if n >= tonumber(ARGV[1]) then return {0, n, t} end
n = redis.call('INCR', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); t = tonumber(ARGV[2]) end
return {1, n, t}`);

// KEYS: counter. Never below zero; the TTL (the window's end) stays.
const RELEASE = redisScript(`
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1`);

// KEYS: counter.
const PEEK = redisScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}`);

export class RedisCounterStore extends CounterStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    super();
  }

  private key = (counter: string) => `${this.prefix}cnt:{${counter}}`;

  override hit(counter: string, windowMs: number): Promise<WindowCount> {
    return this.redis.run(async (redis) => {
      const [count, ttl] = await redis.eval<[number, number]>(HIT, [this.key(counter)], [windowMs]);
      return { count, resetInMs: ttl };
    });
  }

  override reserve(counter: string, limit: number, windowMs: number): Promise<Reservation> {
    return this.redis.run(async (redis) => {
      const [granted, count, ttl] = await redis.eval<[number, number, number]>(RESERVE, [this.key(counter)], [limit, windowMs]);
      return { granted: granted === 1, count, resetInMs: Math.max(0, ttl) };
    });
  }

  override release(counter: string): Promise<void> {
    return this.redis.run(async (redis) => void (await redis.eval(RELEASE, [this.key(counter)], [])));
  }

  override forget(counter: string): Promise<void> {
    const key = this.key(counter);
    return this.redis.run(async (redis) => void (await redis.send(key, ['DEL', key])));
  }

  override peek(counter: string): Promise<WindowCount> {
    return this.redis.run(async (redis) => {
      const [count, ttl] = await redis.eval<[number, number]>(PEEK, [this.key(counter)], []);
      return { count, resetInMs: Math.max(0, ttl) };
    });
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }
}
