import { type RedisCommands, redisScript } from './redis-connection.js';

/** An index member outlives its entry by this much: the entry's own TTL is set a moment later. */
const MARGIN_MS = 60_000;

// KEYS: index. ARGV: member, keepMs. Scores are end times on the Redis clock, the one that also
// expires the entries; ended members are pruned at each write, and the index expires with its last.
const ADD = redisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local keep = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0') < now + keep then redis.call('ZADD', KEYS[1], now + keep, ARGV[1]) end
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1`);

// KEYS: entry. ARGV: owner field, userId. Only an entry the user still owns (a key reused since for
// another user's request stays).
const DROP_OWNED = redisScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1`);

/**
 * A per-user index of one store's entries (a sorted set of member ids), so that erasing a user
 * finds them. An entry's key has its own hash tag (entries spread over a cluster), so the index is
 * written in its own step, before the entry: an entry never exists unindexed, and a member whose
 * entry never came costs nothing. The index key carries the client id as its hash tag, as the
 * pending store's keys do (test/unit/redis-slots.test.ts).
 */
export class RedisUserIndex {
  constructor(
    private readonly prefix: string,
    private readonly name: string,
    /** The entry's hash field that holds its user id. */
    private readonly ownerField: string,
  ) {}

  key(clientId: string, userId: string): string {
    return `${this.prefix}${this.name}:{${clientId}}:${userId}`;
  }

  /** Indexes `member` for at least `keepMs` (a longer keep already there stays). */
  async add(redis: RedisCommands, clientId: string, userId: string, member: string, keepMs: number): Promise<void> {
    await redis.eval(ADD, [this.key(clientId, userId)], [member, Math.ceil(keepMs) + MARGIN_MS]);
  }

  /** Deletes every indexed entry the user still owns (`entryKey` names a member's entry), then the index. */
  async erase(redis: RedisCommands, clientId: string, userId: string, entryKey: (member: string) => string): Promise<void> {
    const index = this.key(clientId, userId);
    const members = await redis.send<string[]>(index, ['ZRANGE', index, '0', '-1']);
    if (members.length === 0) return;
    await Promise.all(members.map((member) => redis.eval(DROP_OWNED, [entryKey(member)], [this.ownerField, userId])));
    // The members dropped, not the key: one added meanwhile (a request racing the erasure) stays findable.
    await redis.send(index, ['ZREM', index, ...members]);
  }
}
