-- message.lua: an operator's message to a job, appended to its inbox and its history
-- (Backend.post_message; the rule is zerog.inbox.admit's).
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the job's uuid                    ARGV[4]  the message (JSON text of an object)
-- ARGV[5]  '1': keep it for the next run of a job that is not running; '0': refuse
-- ARGV[6]  the most messages the inbox may hold
-- ARGV[7]  who sends it (JSON text: a string or null)
-- ARGV[8]  the history entry's detail
--
-- Returns {'ok', state}, or {'error', 'notfound' | 'notrunning' | 'full', ...}.

local uuid = ARGV[3]
local v = rcall('HMGET', jkey(uuid), 'state', 'inbox', 'control')
if not v[1] then
  return refuse('notfound', uuid)
end
local state = state_of(v[1])
local event = 'message'
if state ~= 'running' then
  if ARGV[5] ~= '1' or FINAL[state] then
    return refuse('notrunning', state)
  end
  event = 'message-queued'
end
local waiting = v[2]
local pending = 0
if waiting and waiting ~= '[]' and waiting ~= 'null' then
  pending = #cjson.decode(waiting)
end
if pending >= tonumber(ARGV[6]) then
  return refuse('full', ARGV[6])
end
local inbox = '[' .. ARGV[4] .. ']'
if pending > 0 then -- the texts are kept as written (see lib/core.lua): append, never re-encode.
  inbox = string.sub(waiting, 1, -2) .. ',' .. ARGV[4] .. ']'
end
local fields = { 'inbox', inbox }
if state == 'running' and not dec(v[3]) then
  fields[3], fields[4] = 'control', '"message"'
end
rcall('HSET', jkey(uuid), unpack(fields))
log(uuid, event, state, dec(ARGV[7]), ARGV[8])
return { 'ok', state }
