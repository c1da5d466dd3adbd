import { redisScript } from '../redis/redis-connection.js';

/**
 * The pending store's Lua scripts: each reads and changes a registration in one atomic step. Every
 * key a script touches carries the same hash tag (the client id), so it runs on one cluster slot.
 */

// KEYS: registration, user index, client index. ARGV: now, expiresAt, ttlMs, perUser, perClient, authId, data, name.
export const CREATE = redisScript(`
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
export const CLAIM = redisScript(`
local fields = redis.call('HMGET', KEYS[1], 'data', 'failures', 'lockedUntil', 'name')
if not fields[1] then return {'NOT_FOUND'} end
if tonumber(fields[3]) > tonumber(ARGV[1]) then return {'BUSY'} end
redis.call('HSET', KEYS[1], 'lockedUntil', tonumber(ARGV[1]) + tonumber(ARGV[2]))
return {'OK', fields[1], fields[2], fields[4]}`);

// KEYS: registration. ARGV: name.
export const RENAME = redisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1])
return 1`);

// KEYS: registration, user index, client index. ARGV: maxAttempts, authId.
export const FAIL = redisScript(`
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

export const RELEASE = redisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lockedUntil', 0) end
return 1`);

// KEYS: registration, user index, client index. ARGV: authId, now, evenIfClaimed (0/1), userId.
// A registration of another user of the client is not touched (NOT_FOUND).
export const REMOVE = redisScript(`
local fields = redis.call('HMGET', KEYS[1], 'lockedUntil', 'data')
if not fields[1] then return 0 end
if cjson.decode(fields[2])['userId'] ~= ARGV[4] then return 0 end
if ARGV[3] == '0' and tonumber(fields[1]) > tonumber(ARGV[2]) then return -1 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`);

// KEYS: old registration, old user index, old client index, new registration, new user index, new
// client index. ARGV: authId. Moves a registration written before keys were hash-tagged (one Redis
// node only: that layout never worked on a cluster), keeping its TTL, counts and lock.
export const ADOPT = redisScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
local all = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[4], unpack(all))
redis.call('PEXPIRE', KEYS[4], ttl)
local score = redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('ZSCORE', KEYS[3], ARGV[1])
if score then
  for i = 5, 6 do
    redis.call('ZADD', KEYS[i], score, ARGV[1])
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`);
