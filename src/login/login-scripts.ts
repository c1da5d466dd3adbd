import { redisScript } from '../redis/redis-connection.js';

// A request is one hash: `data` (what never changes, JSON), `expiresAt`, `userId`, `state`,
// `failures`, `decidedBy`, `decidedAt`, `redeemedAt`, and the decision lock (`lock`, `lockUntil`).
// Each script touches one key: cluster-safe. Decisions are announced with
// PUBLISH from inside the script, so no change goes unannounced (PUBLISH reaches every node of a
// cluster). The scripts answer {outcome, HGETALL...}.

// KEYS: request. ARGV: keepMs, field, value, ... One step: the hash never exists without its TTL.
export const CREATE = redisScript(`
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`);

// KEYS: request. ARGV: userId, now, lockMs, token.
export const CLAIM = redisScript(`
local f = redis.call('HMGET', KEYS[1], 'userId', 'state', 'expiresAt', 'lockUntil')
if f[1] ~= ARGV[1] then return {'NOT_FOUND'} end
local now = tonumber(ARGV[2])
if f[2] ~= 'PENDING' or now >= tonumber(f[3]) then return {'CLOSED', unpack(redis.call('HGETALL', KEYS[1]))} end
if f[4] and tonumber(f[4]) > now then return {'BUSY'} end
redis.call('HSET', KEYS[1], 'lock', ARGV[4], 'lockUntil', now + tonumber(ARGV[3]))
return {'CLAIMED', unpack(redis.call('HGETALL', KEYS[1]))}`);

// KEYS: request. ARGV: token, outcome (APPROVED|DENIED|WRONG), deviceId, now, maxFailures, channel, message.
// A wrong response counts even if its lock has run out meanwhile; a decision needs the request pending.
export const SETTLE = redisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if redis.call('HGET', KEYS[1], 'lock') == ARGV[1] then redis.call('HDEL', KEYS[1], 'lock', 'lockUntil') end
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAt')
local result = 'DECIDED'
if f[1] ~= 'PENDING' then
  result = 'CLOSED'
elseif tonumber(ARGV[4]) >= tonumber(f[2]) then
  result = 'EXPIRED'
elseif ARGV[2] == 'WRONG' then
  if redis.call('HINCRBY', KEYS[1], 'failures', 1) < tonumber(ARGV[5]) then
    result = 'COUNTED'
  else
    redis.call('HSET', KEYS[1], 'state', 'FAILED', 'decidedAt', ARGV[4])
  end
else
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'decidedBy', ARGV[3], 'decidedAt', ARGV[4])
end
if result == 'DECIDED' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
return {result, unpack(redis.call('HGETALL', KEYS[1]))}`);

// KEYS: request. ARGV: token.
export const RELEASE = redisScript(`
if redis.call('HGET', KEYS[1], 'lock') == ARGV[1] then redis.call('HDEL', KEYS[1], 'lock', 'lockUntil') end
return 1`);

// KEYS: request. ARGV: userId, now.
export const REDEEM = redisScript(`
local f = redis.call('HMGET', KEYS[1], 'userId', 'state', 'redeemedAt')
if f[1] ~= ARGV[1] then return {'NOT_FOUND'} end
local result = 'REFUSED'
if f[2] == 'APPROVED' and not f[3] then
  redis.call('HSET', KEYS[1], 'redeemedAt', ARGV[2])
  result = 'REDEEMED'
end
return {result, unpack(redis.call('HGETALL', KEYS[1]))}`);
