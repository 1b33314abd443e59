-- unrecur.lua: forget a recurrence; the jobs it spawned stay (Schedules.unrecur).
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the recurrence's id
--
-- Returns {'ok', 1 when there was one, else 0}.

local id = ARGV[3]
local queue = rcall('HGET', rkey(id), 'queue')
if not queue then
  return { 'ok', 0 }
end
rcall('DEL', rkey(id))
rcall('ZREM', rqkey(dec(queue)), id)
rcall('ZREM', K_RECURS, id)
return { 'ok', 1 }
