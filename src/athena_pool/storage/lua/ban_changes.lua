#!lua flags=no-writes
-- The ban log after a cursor, or word that the reader must reload (entries it never saw were trimmed).
--
-- KEYS[1] ban log (stream)
-- ARGV[1] cursor (a stream id, exclusive)   ARGV[2] entries at most
-- Returns {0, {entries}} (as XRANGE gives them), or {1, {}} when entries newer than the cursor may have
-- been trimmed away: something was trimmed and the oldest entry left is newer than the cursor.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, {}}
end

local function newer(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  a_ms, a_seq, b_ms, b_seq = tonumber(a_ms), tonumber(a_seq), tonumber(b_ms), tonumber(b_seq)
  return a_ms > b_ms or (a_ms == b_ms and a_seq > b_seq)
end

local info = redis.call('XINFO', 'STREAM', KEYS[1])
local length, added, first = 0, nil, nil
for i = 1, #info, 2 do
  local name = info[i]
  if name == 'length' then
    length = info[i + 1]
  elseif name == 'entries-added' then
    added = info[i + 1]
  elseif name == 'first-entry' and info[i + 1] then
    first = info[i + 1][1]
  end
end
local trimmed = added == nil or added > length
if trimmed and first and newer(first, ARGV[1]) then
  return {1, {}}
end
return {0, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))}
