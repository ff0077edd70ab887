#!lua
-- Renews or releases the payment lease, only for the pass that holds it.
--
-- KEYS[1] lease    ARGV[1] token    ARGV[2] "renew" or "release"    ARGV[3] lease time ms (renew)
-- Returns 1 when the token held the lease (renewed or released), 0 when it did not.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
