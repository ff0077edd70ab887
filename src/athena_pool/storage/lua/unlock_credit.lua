#!lua
-- Credits an unlocked block, atomically and at most once (storage/ledger.py builds the arguments).
--
-- The guard is the block's status: only a "candidate" is credited, and the same script sets "unlocked",
-- so running it again (an unlocker restarted after a crash, a reply lost) changes nothing.
-- Redis does not roll back a script that fails half-way, so every key is type-checked before the first
-- write; what is left to fail is an int64 overflow at 2^63 atomic units, beyond any coin's supply in a pool.
-- The shebang line makes Redis refuse the script up front (out of memory, read-only replica).
--
-- KEYS[1] block record        KEYS[2] candidates index    KEYS[3] matured index
-- KEYS[4] frozen round        KEYS[5] balances            KEYS[6] block credits (payout proof)
-- KEYS[7] ledger              KEYS[7 + i] credit history list of the address of credit i
-- ARGV[1] index member        ARGV[2] height (score)      ARGV[3] history entries kept per address
-- ARGV[4] R, record field pairs   ARGV[5] L, ledger field pairs   ARGV[6] C, credits
-- then R pairs (field, value) added to the block record, L pairs (field, amount) added to the ledger,
-- C triples (address, amount, history entry JSON). Amounts are decimal strings handed to Redis as they
-- are: Lua numbers are doubles and must not carry money.
-- Returns 1 if the block was credited now, 0 if it is not a candidate (credited or orphaned before).
if redis.call('HGET', KEYS[1], 'status') ~= 'candidate' then
  return 0
end

local function require_type(key, wanted)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= wanted then
    return redis.error_reply('unlock_credit: ' .. key .. ' is a ' .. found .. ', not a ' .. wanted)
  end
  return nil
end

local record_pairs, ledger_pairs, credits = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local checks = {{KEYS[2], 'zset'}, {KEYS[3], 'zset'}, {KEYS[5], 'hash'}, {KEYS[6], 'hash'}, {KEYS[7], 'hash'}}
for i = 1, credits do
  checks[#checks + 1] = {KEYS[7 + i], 'list'}
end
for _, check in ipairs(checks) do
  local problem = require_type(check[1], check[2])
  if problem then
    return problem
  end
end

local first_record = 7
local first_ledger = first_record + 2 * record_pairs
local first_credit = first_ledger + 2 * ledger_pairs

redis.call('HSET', KEYS[1], 'status', 'unlocked', 'orphaned', '0',
  unpack(ARGV, first_record, first_ledger - 1))
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])

for i = 0, ledger_pairs - 1 do
  local at = first_ledger + 2 * i
  redis.call('HINCRBY', KEYS[7], ARGV[at], ARGV[at + 1])
end

local keep_last = tonumber(ARGV[3]) - 1
for i = 0, credits - 1 do
  local at = first_credit + 3 * i
  local address, amount, entry = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  redis.call('HINCRBY', KEYS[5], address, amount)
  redis.call('HSET', KEYS[6], address, amount)
  redis.call('LPUSH', KEYS[8 + i], entry)
  redis.call('LTRIM', KEYS[8 + i], 0, keep_last)
end

redis.call('DEL', KEYS[4])
return 1
