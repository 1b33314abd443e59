-- act.lua: an operator's action on one job: cancel, pause, resume, retry, timeout
-- (Backend.act).
-- needs: core jobs put operate
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the job's uuid                    ARGV[4]  the action
-- ARGV[5]  the action's moves (JSON, see lib/operate.lua)
-- ARGV[6]  who acts (JSON text: a string or null)
--
-- Returns {'ok', state after}, or {'error', 'notfound' | 'transition' | 'duplicate', ...}.

local j = load(ARGV[3])
if not j then
  return refuse('notfound', ARGV[3])
end
local state, refusal = operate(j, ARGV[4], cjson.decode(ARGV[5]), dec(ARGV[6]))
if not state then
  return refusal
end
flush()
return { 'ok', state }
