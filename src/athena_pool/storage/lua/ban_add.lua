#!lua
-- Adds or extends a ban, logs the change for every stratum process, and sweeps a few expired bans.
--
-- KEYS[1] ban records (hash)   KEYS[2] ban expiry index (zset)   KEYS[3] ban log (stream)
-- ARGV[1] ban id               ARGV[2] record JSON               ARGV[3] until ms
-- ARGV[4] now ms               ARGV[5] log max length (approx.)  ARGV[6] expired bans swept at most
-- Returns 1 when the ban was written, 0 when a ban with that id already lasts at least as long.
local until_ms = tonumber(ARGV[3])
local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
if current and tonumber(current) >= until_ms then
  return 0
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[6]))
if #expired > 0 then
  redis.call('HDEL', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], until_ms, ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'op', 'add', 'id', ARGV[1], 'record', ARGV[2])
return 1
