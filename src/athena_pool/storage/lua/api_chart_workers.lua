#!lua
-- Adds one collected hashrate per worker to an address's worker charts (a hash: worker -> JSON points).
--
-- Each field is a chart as in api_chart_append.lua. Fields whose newest point is older than the
-- retention are removed; beyond `max_workers` fields the least recently updated ones are removed, so the
-- hash stays bounded whatever worker names a miner invents. The hash expires after `ttl_ms` unused.
--
-- KEYS[1] worker charts (hash)
-- ARGV[1] now (s)   ARGV[2] step (s)   ARGV[3] max points   ARGV[4] ttl ms   ARGV[5] max workers
-- ARGV[6..] worker, value pairs
-- Returns the number of workers kept.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local step = tonumber(ARGV[2])
local max_points = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local max_workers = tonumber(ARGV[5])
local retention_s = ttl / 1000

local function add_point(text, value)
  local points = {}
  if text then
    points = cjson.decode(text)
  end
  local newest = points[#points]
  if newest and now - newest[1] < step and now >= newest[1] then
    newest[2] = (newest[2] * newest[3] + value) / (newest[3] + 1)
    newest[3] = newest[3] + 1
  else
    points[#points + 1] = {now, value, 1}
  end
  local first = math.max(1, #points - max_points + 1)
  local kept = {}
  for i = first, #points do
    kept[#kept + 1] = points[i]
  end
  return cjson.encode(kept)
end

for i = 6, #ARGV, 2 do
  local worker = ARGV[i]
  local value = tonumber(ARGV[i + 1])
  redis.call('HSET', key, worker, add_point(redis.call('HGET', key, worker), value))
end

-- Age out idle workers, then cap the number of fields.
local all = redis.call('HGETALL', key)
local newest_of = {}
local names = {}
for i = 1, #all, 2 do
  local points = cjson.decode(all[i + 1])
  local newest = points[#points]
  local t = newest and newest[1] or 0
  if now - t > retention_s then
    redis.call('HDEL', key, all[i])
  else
    names[#names + 1] = all[i]
    newest_of[all[i]] = t
  end
end
if #names > max_workers then
  table.sort(names, function(a, b)
    if newest_of[a] == newest_of[b] then
      return a < b
    end
    return newest_of[a] < newest_of[b]
  end)
  for i = 1, #names - max_workers do
    redis.call('HDEL', key, names[i])
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', key, ttl)
end
return math.min(#names, max_workers)
