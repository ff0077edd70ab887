#!lua
-- Records a block candidate and freezes the round it closes, atomically and at most once.
--
-- A crash can leave neither a frozen round without its block record nor a record without its round:
-- both happen here or not at all (the shebang makes Redis refuse the script up front when it cannot
-- write, rather than stopping half-way).
--
-- KEYS[1] block record          KEYS[2] candidates index     KEYS[3] live round (hash)
-- KEYS[4] live round total      KEYS[5] frozen round         KEYS[6] pool stats
-- KEYS[7] PPLNS stream
-- ARGV[1] index member          ARGV[2] height (index score) ARGV[3] time ms
-- ARGV[4] pool-stats field of the last block time of this reward type
-- ARGV[5] pool-stats field of the block count of this reward type
-- ARGV[6..] block record fields, as field, value pairs
-- Returns 1 if the candidate was added, 0 if this block was recorded before.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end

local round_shares = redis.call('GET', KEYS[4]) or '0'
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[5])
end
redis.call('DEL', KEYS[4])

-- The unlocker reads the PPLNS window that ends at the newest share credited before this block.
local newest = redis.call('XREVRANGE', KEYS[7], '+', '-', 'COUNT', 1)
local pplns_cursor = '0-0'
if #newest > 0 then
  pplns_cursor = newest[1][1]
end

redis.call('HSET', KEYS[1], 'round_shares', round_shares, 'pplns_cursor', pplns_cursor,
  'status', 'candidate', unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])

local last_block = redis.call('HGET', KEYS[6], ARGV[4])
if not last_block or tonumber(last_block) < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[6], ARGV[4], ARGV[3])
end
redis.call('HINCRBY', KEYS[6], ARGV[5], 1)
return 1
