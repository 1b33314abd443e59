-- pause.lua: stop or restart claims from a queue (Queues.pause_queue); a restarted queue
-- wakes the processes waiting on it.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the queue                         ARGV[4]  '1' to pause, '0' to restart
--
-- Returns {'ok'}.

if ARGV[4] == '1' then
  rcall('SADD', K_PAUSED, ARGV[3])
elseif rcall('SREM', K_PAUSED, ARGV[3]) == 1 then
  wake(ARGV[3])
end
return { 'ok' }
