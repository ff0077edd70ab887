#!lua
-- Marks a candidate orphaned, atomically and at most once, and gives its round's shares back.
--
-- The guard is the block's status, as in unlock_credit.lua. The frozen round is merged into the live round
-- it came from (the shared round, or the finder's solo round), so PROP and SOLO shares are paid with the
-- next block of that round instead of being lost. Under PPLNS the shares never left the stream; the
-- shared round then only counts the effort since the last block, which an orphan does not end either.
-- Difficulties are merged with HINCRBY/INCRBY on the stored strings, never through Lua numbers.
--
-- KEYS[1] block record        KEYS[2] candidates index    KEYS[3] matured index
-- KEYS[4] frozen round        KEYS[5] live round (hash)   KEYS[6] live round total
-- KEYS[7] ledger
-- ARGV[1] index member        ARGV[2] height (score)
-- ARGV[3..] field, value pairs added to the block record
-- Returns 1 if the block was orphaned now, 0 if it is not a candidate.
if redis.call('HGET', KEYS[1], 'status') ~= 'candidate' then
  return 0
end

local checks = {{KEYS[2], 'zset'}, {KEYS[3], 'zset'}, {KEYS[4], 'hash'}, {KEYS[5], 'hash'},
  {KEYS[6], 'string'}, {KEYS[7], 'hash'}}
for _, check in ipairs(checks) do
  local found = redis.call('TYPE', check[1]).ok
  if found ~= 'none' and found ~= check[2] then
    return redis.error_reply('unlock_orphan: ' .. check[1] .. ' is a ' .. found .. ', not a ' .. check[2])
  end
end

redis.call('HSET', KEYS[1], 'status', 'orphaned', 'orphaned', '1', unpack(ARGV, 3))
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])

local round = redis.call('HGETALL', KEYS[4])
for i = 1, #round, 2 do
  redis.call('HINCRBY', KEYS[5], round[i], round[i + 1])
  redis.call('INCRBY', KEYS[6], round[i + 1])
end
redis.call('DEL', KEYS[4])
redis.call('HINCRBY', KEYS[7], 'blocks_orphaned', 1)
return 1
