-- recurrences.lua: the recurrences in creation order, or one of them (Schedules.recurrences).
-- A read.
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  a recurrence's id, or '' for all of them
--
-- Returns {'ok', documents (JSON texts)...}.

local ids = ARGV[3] ~= '' and { ARGV[3] } or rcall('ZRANGE', K_RECURS, 0, -1)
local out = { 'ok' }
for _, id in ipairs(ids) do
  local flat = rcall('HGETALL', rkey(id))
  if #flat > 0 then
    out[#out + 1] = '{' .. table.concat(doc_json(flat), ',') .. '}'
  end
end
return out
