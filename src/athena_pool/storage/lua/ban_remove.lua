#!lua
-- Lifts a ban and logs the change, so every stratum process drops it from its ban list.
--
-- KEYS[1] ban records (hash)   KEYS[2] ban expiry index (zset)   KEYS[3] ban log (stream)
-- ARGV[1] ban id               ARGV[2] log max length (approx.)
-- Returns 1 when a ban was lifted, 0 when there was none with that id.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'op', 'del', 'id', ARGV[1])
return 1
