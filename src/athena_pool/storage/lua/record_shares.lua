#!lua
-- Applies one share batch atomically and at most once (storage/plan.py builds the plan).
--
-- The shebang line makes Redis refuse the whole script up front when it cannot write (out of memory,
-- read-only replica) instead of failing half-way through.
--
-- KEYS[1]   the batch's dedupe key; every other key is referenced by its index in the plan.
-- ARGV[1]   dedupe TTL in milliseconds.
-- ARGV[2]   the plan, JSON. Amounts, scores and times are decimal strings and are handed to Redis
--           unchanged: Lua numbers are doubles and must not carry them.
-- Returns   1 if the batch was applied, 0 if it had been applied before.
--
-- The dedupe key is set first: if a command failed half-way (a key of the wrong type), a retry of the
-- batch is a no-op instead of counting the first half twice.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end

local plan = cjson.decode(ARGV[2])

for _, op in ipairs(plan.hincrby) do
  redis.call('HINCRBY', KEYS[op[1]], op[2], op[3])
end

for _, op in ipairs(plan.incrby) do
  redis.call('INCRBY', KEYS[op[1]], op[2])
end

-- Last-share times only move forward: a batch replayed after an outage must not turn them back.
for _, op in ipairs(plan.hmax) do
  local key, field, value = KEYS[op[1]], op[2], op[3]
  local current = redis.call('HGET', key, field)
  if not current or tonumber(current) < tonumber(value) then
    redis.call('HSET', key, field, value)
  end
end

for _, op in ipairs(plan.zadd_gt) do
  redis.call('ZADD', KEYS[op[1]], 'GT', op[2], op[3])
end

for _, op in ipairs(plan.zadd) do
  redis.call('ZADD', KEYS[op[1]], op[2], op[3])
end

for _, op in ipairs(plan.xadd) do
  redis.call('XADD', KEYS[op[1]], 'MAXLEN', '~', op[2], '*', 'a', op[3], 'd', op[4], 't', op[5])
end

for _, op in ipairs(plan.ztrim_score) do
  redis.call('ZREMRANGEBYSCORE', KEYS[op[1]], '-inf', '(' .. op[2])
end

for _, op in ipairs(plan.ztrim_rank) do
  redis.call('ZREMRANGEBYRANK', KEYS[op[1]], 0, op[2])
end

for _, op in ipairs(plan.pexpire) do
  redis.call('PEXPIRE', KEYS[op[1]], op[2])
end

return 1
