#!lua
-- Gives a batch's reserved amounts back to the payees' balances and closes it as released. Only for a
-- batch the wallet provably never sent (or one an operator resolved as not sent).
--
-- KEYS[1] lease   KEYS[2] batch record   KEYS[3] open batches   KEYS[4] closed batches
-- KEYS[5] balances   KEYS[6] pending
-- ARGV[1] lease token   ARGV[2] batch id   ARGV[3] now ms   ARGV[4] allowed current states, comma separated
-- ARGV[5] reason
-- Returns {1, ""} done; {-1, ""} lease; {-3, ""} no batch; {-4, state} not in an allowed state.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, ''}
end
local state = redis.call('HGET', KEYS[2], 'state')
if not state then
  return {-3, ''}
end
if not string.find(',' .. ARGV[4] .. ',', ',' .. state .. ',', 1, true) then
  return {-4, state}
end
local items = cjson.decode(redis.call('HGET', KEYS[2], 'items'))
for _, item in ipairs(items) do
  if redis.call('HINCRBY', KEYS[6], item.account, '-' .. item.gross) == 0 then
    redis.call('HDEL', KEYS[6], item.account)
  end
  redis.call('HINCRBY', KEYS[5], item.account, item.gross)
end
redis.call('HSET', KEYS[2], 'state', 'released', 'released_ms', ARGV[3], 'reason', ARGV[5])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {1, ''}
