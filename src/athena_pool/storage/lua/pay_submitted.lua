#!lua
-- Records the transaction that carries a batch (from the wallet's reply, reconciliation or an operator)
-- and claims its hash, so no other batch can ever count the same transaction.
--
-- KEYS[1] lease   KEYS[2] batch record   KEYS[3] payment-txs (tx hash -> batch id)
-- ARGV[1] lease token   ARGV[2] batch id   ARGV[3] now ms   ARGV[4] tx hash   ARGV[5] real fee
-- ARGV[6] allowed current states, comma separated   ARGV[7] how it was found
-- Returns {1, ""} done; {-1, ""} lease; {-3, ""} no batch; {-4, state} wrong state;
-- {-5, batch id} the hash already belongs to another batch.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, ''}
end
local state = redis.call('HGET', KEYS[2], 'state')
if not state then
  return {-3, ''}
end
if not string.find(',' .. ARGV[6] .. ',', ',' .. state .. ',', 1, true) then
  return {-4, state}
end
local owner = redis.call('HGET', KEYS[3], ARGV[4])
if owner and owner ~= ARGV[2] then
  return {-5, owner}
end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[2], 'state', 'submitted', 'submitted_ms', ARGV[3], 'tx_hash', ARGV[4],
  'real_fee', ARGV[5], 'found_by', ARGV[7])
return {1, ''}
