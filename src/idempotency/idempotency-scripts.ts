import { redisScript } from '../redis/redis-connection.js';

// One hash per client and key (each script touches that one key: cluster-safe): fingerprint, state
// (RUNNING | DONE), the user whose path the request is on ('' for none) and, when done, the sealed
// response.

// KEYS: entry. ARGV: fingerprint, runningMs, run id, userId. Returns {outcome, sealed response?}.
export const BEGIN = redisScript(`
local f = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'response')
if not f[1] then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'state', 'RUNNING', 'run', ARGV[3], 'user', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'STARTED'}
end
if f[1] ~= ARGV[1] then return {'REUSED'} end
if f[2] ~= 'DONE' then return {'IN_PROGRESS'} end
return {'DONE', f[3]}`);

// KEYS: entry. ARGV: run id, sealed response, keepMs. Only the run that began it completes it.
export const COMPLETE = redisScript(`
local f = redis.call('HMGET', KEYS[1], 'run', 'state')
if f[1] ~= ARGV[1] or f[2] ~= 'RUNNING' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'DONE', 'response', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`);

// KEYS: entry. ARGV: run id.
export const ABANDON = redisScript(`
local f = redis.call('HMGET', KEYS[1], 'run', 'state')
if f[1] == ARGV[1] and f[2] == 'RUNNING' then redis.call('DEL', KEYS[1]) end
return 1`);
