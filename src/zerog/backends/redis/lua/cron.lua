-- cron.lua: the next time a cron line names after a time, computed as the claim script will
-- (lib/cron.lua): a recurrence is stored only when its line is one the scripts can follow.
-- needs: core cron
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the cron line                     ARGV[4]  the time after which to look
--
-- Returns {'ok', the next time as text}, or {'error', 'cron', why}.

local ok, found = pcall(cron_next, ARGV[3], tonumber(ARGV[4]))
if not ok then
  return refuse('cron', tostring(found))
end
return { 'ok', num(found) }
