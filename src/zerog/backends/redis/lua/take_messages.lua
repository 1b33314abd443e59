-- take_messages.lua: a running job's worker takes its inbox, emptied in the same step
-- (Backend.take_messages).
-- needs: core jobs progress
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the job's uuid                    ARGV[4]  the lease token
--
-- Returns {'ok', the inbox (JSON text of a list)}, or {'error', 'lost'}.

local uuid = ARGV[3]
if not held(uuid, tonumber(ARGV[4]), { 'state', 'lease_token' }) then
  return refuse('lost')
end
local v = rcall('HMGET', jkey(uuid), 'inbox', 'control')
local fields = {}
if v[1] and v[1] ~= '[]' then
  fields[1], fields[2] = 'inbox', '[]'
end
if dec(v[2]) == 'message' then -- a pending cancel or pause stays.
  fields[#fields + 1] = 'control'
  fields[#fields + 1] = 'null'
end
if #fields > 0 then
  rcall('HSET', jkey(uuid), unpack(fields))
end
return { 'ok', v[1] or '[]' }
