#!lua
-- Adds one collected value to each of a few chart lists (pool series, or one miner's chart).
--
-- A chart is a list of JSON points [time_s, value, samples], oldest first. A value collected less than
-- `step` seconds after the newest point is averaged into it; otherwise it starts a new point. The list
-- keeps its newest `max_points` points, and with `ttl_ms` > 0 it expires when nothing is added for that
-- long, so no chart grows or lives forever.
--
-- KEYS[i]  chart list i
-- ARGV[1] now (s)   ARGV[2] step (s)   ARGV[3] max points   ARGV[4] ttl ms (0 = none)
-- ARGV[4 + i] value for KEYS[i]
-- Returns the number of lists updated.
local now = tonumber(ARGV[1])
local step = tonumber(ARGV[2])
local max_points = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])

for i, key in ipairs(KEYS) do
  local value = tonumber(ARGV[4 + i])
  local newest = redis.call('LINDEX', key, -1)
  local merged = false
  if newest then
    local point = cjson.decode(newest)
    if now - point[1] < step and now >= point[1] then
      local samples = point[3]
      point[2] = (point[2] * samples + value) / (samples + 1)
      point[3] = samples + 1
      redis.call('LSET', key, -1, cjson.encode(point))
      merged = true
    end
  end
  if not merged then
    redis.call('RPUSH', key, cjson.encode({now, value, 1}))
    redis.call('LTRIM', key, -max_points, -1)
  end
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  end
end
return #KEYS
