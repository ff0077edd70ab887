#!lua
-- Moves a batch from one of the allowed states to a new one (compare and set), recording extra fields.
-- Used for submitting (written before the wallet call), retryable and manual_review; no money moves here.
--
-- KEYS[1] lease   KEYS[2] batch record
-- ARGV[1] lease token   ARGV[2] new state   ARGV[3] now ms   ARGV[4] allowed current states, comma separated
-- ARGV[5 ..] field, value pairs
-- Returns {1, ""} done; {-1, ""} lease not held; {-3, ""} no such batch; {-4, state} not in an allowed state.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, ''}
end
local state = redis.call('HGET', KEYS[2], 'state')
if not state then
  return {-3, ''}
end
if not string.find(',' .. ARGV[4] .. ',', ',' .. state .. ',', 1, true) then
  return {-4, state}
end
redis.call('HSET', KEYS[2], 'state', ARGV[2], ARGV[2] .. '_ms', ARGV[3], unpack(ARGV, 5))
return {1, ''}
