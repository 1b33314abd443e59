-- next_due.lua: when the first scheduled job (or recurrence) of some queues is due
-- (Backend.next_due). A read.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3..] the queues
--
-- A paused queue is left out: its due jobs wait, claimed by nobody, until it restarts.
-- Returns {'ok', the earliest due time as text, or ''}.

local first
for i = 3, #ARGV do
  local keys = rcall('SISMEMBER', K_PAUSED, ARGV[i]) == 1 and {} or { schedkey(ARGV[i]), rqkey(ARGV[i]) }
  for _, key in ipairs(keys) do
    local found = rcall('ZRANGE', key, 0, 0, 'WITHSCORES')
    if found[2] and (not first or tonumber(found[2]) < tonumber(first)) then
      first = found[2]
    end
  end
end
return { 'ok', first or '' }
