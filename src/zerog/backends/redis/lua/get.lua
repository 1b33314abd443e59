-- get.lua: one job's record, with its history when asked (Backend.get). A read.
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the job's uuid                    ARGV[4]  '1' to add its history
--
-- Returns {'ok', the record as JSON text}, or {'error', 'notfound', uuid}.

local text = record_json(ARGV[3], ARGV[4] == '1')
if not text then
  return refuse('notfound', ARGV[3])
end
return { 'ok', text }
