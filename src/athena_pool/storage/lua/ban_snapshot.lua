#!lua flags=no-writes
-- Every live ban and the log position they are current at, in one atomic read.
--
-- KEYS[1] ban records (hash)   KEYS[2] ban expiry index (zset)   KEYS[3] ban log (stream)
-- ARGV[1] now ms
-- Returns {log cursor, {record JSON, ...}}; the cursor is "0-0" while the log is empty.
local cursor = '0-0'
local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if #newest > 0 then
  cursor = newest[1][1]
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
local records = {}
if #ids > 0 then
  local values = redis.call('HMGET', KEYS[1], unpack(ids))
  for _, value in ipairs(values) do
    if value then
      records[#records + 1] = value
    end
  end
end
return {cursor, records}
