-- set_limit.lua: set or remove a concurrency limit (Limits.set_limit); a queue's own limit
-- raised or removed wakes the processes waiting on the queue.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the limit's name                  ARGV[4]  its maximum, or '' to remove it
--
-- Returns {'ok'}.

if ARGV[4] == '' then
  rcall('HDEL', K_LIMITS, ARGV[3])
else
  rcall('HSET', K_LIMITS, ARGV[3], ARGV[4])
end
if string.sub(ARGV[3], 1, 6) == 'queue:' then
  wake(string.sub(ARGV[3], 7))
end
return { 'ok' }
