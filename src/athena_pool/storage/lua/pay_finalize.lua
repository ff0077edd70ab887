#!lua
-- Closes a submitted batch as paid: per payee, the pending gross leaves, net goes to paid and the charged
-- fee to the miner's fees; the payment histories and totals are written; the batch moves to closed.
-- The amounts come from the batch record itself (decimal strings), never from the caller.
--
-- KEYS[1] lease   KEYS[2] batch record   KEYS[3] open batches   KEYS[4] closed batches   KEYS[5] pending
-- KEYS[6] paid    KEYS[7] fees           KEYS[8] totals         KEYS[9] payments:all
-- KEYS[10 .. 9+n] payments:miner:{account} for each item, in the record's order
-- ARGV[1] lease token   ARGV[2] batch id   ARGV[3] now ms   ARGV[4] pool history member
-- ARGV[5 .. 4+n] miner history members, in the record's order
-- Returns {1, ""} done; {-1, ""} lease; {-3, ""} no batch; {-4, state} not submitted; {-6, ""} keys do not
-- match the record's items.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, ''}
end
local state = redis.call('HGET', KEYS[2], 'state')
if not state then
  return {-3, ''}
end
if state ~= 'submitted' then
  return {-4, state}
end
local items = cjson.decode(redis.call('HGET', KEYS[2], 'items'))
if #items ~= #KEYS - 9 or #items ~= #ARGV - 4 then
  return {-6, ''}
end
for i, item in ipairs(items) do
  local suffix = ':' .. item.account
  if string.sub(KEYS[9 + i], -#suffix) ~= suffix then
    return {-6, ''}
  end
end
for i, item in ipairs(items) do
  if redis.call('HINCRBY', KEYS[5], item.account, '-' .. item.gross) == 0 then
    redis.call('HDEL', KEYS[5], item.account)
  end
  redis.call('HINCRBY', KEYS[6], item.account, item.net)
  redis.call('HINCRBY', KEYS[8], 'paid', item.net)
  if item.charge ~= '0' then
    redis.call('HINCRBY', KEYS[7], item.account, item.charge)
    redis.call('HINCRBY', KEYS[8], 'fees_charged', item.charge)
  end
  redis.call('ZADD', KEYS[9 + i], ARGV[3], ARGV[4 + i])
end
redis.call('HINCRBY', KEYS[8], 'network_fees', redis.call('HGET', KEYS[2], 'real_fee'))
redis.call('HINCRBY', KEYS[8], 'transactions', 1)
redis.call('ZADD', KEYS[9], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], 'state', 'finalized', 'finalized_ms', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {1, ''}
