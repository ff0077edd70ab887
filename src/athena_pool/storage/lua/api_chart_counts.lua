#!lua
-- Writes the newest points of counted pool charts (blocks found per step).
--
-- A counted chart is a list of JSON points [step_start_s, count, 1], oldest first, one per step. The
-- collector recounts its newest few steps from the block index each time and sends them all: the points
-- from `from` on are replaced by the given ones. A block is so counted once however often the collector
-- runs, and still counted when it was found after the step's previous collection. The list keeps its
-- newest `max_points` points (pool charts do not expire: the pool always collects them).
--
-- KEYS[i]  chart list i
-- ARGV[1] from (s)   ARGV[2] max points   ARGV[3] n, the points given per list
-- ARGV[4 + 2 * n * (i - 1) ..] n (time_s, count) pairs for KEYS[i], oldest first
-- Returns the number of lists updated.
local from = tonumber(ARGV[1])
local max_points = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

for i, key in ipairs(KEYS) do
  while true do
    local newest = redis.call('LINDEX', key, -1)
    if not newest or cjson.decode(newest)[1] < from then
      break
    end
    redis.call('RPOP', key)
  end
  local base = 3 + 2 * n * (i - 1)
  for j = 1, n do
    local time_s = tonumber(ARGV[base + 2 * j - 1])
    local count = tonumber(ARGV[base + 2 * j])
    redis.call('RPUSH', key, cjson.encode({time_s, count, 1}))
  end
  redis.call('LTRIM', key, -max_points, -1)
end
return #KEYS
