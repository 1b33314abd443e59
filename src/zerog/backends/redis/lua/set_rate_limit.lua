-- set_rate_limit.lua: set or remove a rate limit (Limits.set_rate_limit); its log of starts
-- goes with it. Any change wakes the processes waiting on a queue whose own it is.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the rate limit's name             ARGV[4]  'maximum per' (seconds), or '' to remove
--
-- Returns {'ok'}.

if ARGV[4] == '' then
  rcall('HDEL', P .. ':rates', ARGV[3])
  rcall('DEL', P .. ':rs:' .. ARGV[3])
else
  rcall('HSET', P .. ':rates', ARGV[3], ARGV[4])
end
if string.sub(ARGV[3], 1, 6) == 'queue:' then
  wake(string.sub(ARGV[3], 7))
end
return { 'ok' }
