#!lua
-- Opens a payment batch: moves each payee's gross amount from its balance into the batch's pending
-- amounts and writes the batch record in state "reserved", all at once or not at all.
--
-- Amounts stay decimal strings: Lua numbers are doubles and lose atomic units above 2^53, so balances are
-- compared as strings and changed only with HINCRBY (exact int64 in Redis).
--
-- KEYS[1] lease   KEYS[2] batch record   KEYS[3] open batches   KEYS[4] balances   KEYS[5] pending
-- ARGV[1] lease token   ARGV[2] batch id   ARGV[3] created ms   ARGV[4] item count n
-- ARGV[5 .. 4+2n] account, gross pairs   ARGV[5+2n ..] batch record field, value pairs
-- Returns {1, ""} reserved; {-1, ""} lease not held; {-2, ""} batch exists; {0, account} balance too small.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, ''}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {-2, ''}
end

-- Balances written by HINCRBY are canonical decimal strings; anything else (a negative balance, a field
-- someone set by hand) is refused here, before the first write, so the script never stops half-way.
local function at_least(have, need)
  if not string.match(have, '^%d+$') or not string.match(need, '^[1-9]%d*$') then
    return false
  end
  if #have ~= #need then
    return #have > #need
  end
  return have >= need
end

local count = tonumber(ARGV[4])
for i = 0, count - 1 do
  local account, gross = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  local balance = redis.call('HGET', KEYS[4], account) or '0'
  if not at_least(balance, gross) then
    return {0, account}
  end
end
for i = 0, count - 1 do
  local account, gross = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  if redis.call('HINCRBY', KEYS[4], account, '-' .. gross) == 0 then
    redis.call('HDEL', KEYS[4], account)
  end
  redis.call('HINCRBY', KEYS[5], account, gross)
end
redis.call('HSET', KEYS[2], 'state', 'reserved', 'reserved_ms', ARGV[3], unpack(ARGV, 5 + 2 * count))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return {1, ''}
