-- save.lua: renew a running job's lease, and write its progress when given (Backend.touch,
-- Backend.save).
-- needs: core jobs progress
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the job's uuid                    ARGV[4]  the lease token
-- ARGV[5]  the progress (JSON, see lib/progress.lua), or '' for a plain touch
--
-- Returns {'ok', what an operator asked ('' , 'cancel', 'pause')}, or {'error', 'lost'}.

local uuid = ARGV[3]
local j = held(uuid, tonumber(ARGV[4]), { 'state', 'lease_token', 'ttr_seconds', '_seq' })
if not j then
  return refuse('lost')
end
local expires = NOW + j.ttr_seconds
local fields = { 'lease_expires_at', num(expires) }
if ARGV[5] ~= '' then
  apply_progress(uuid, cjson.decode(ARGV[5]), fields)
  fields[#fields + 1] = 'updated_at'
  fields[#fields + 1] = NOWT
end
rcall('HSET', jkey(uuid), unpack(fields))
rcall('ZADD', K_RUNNING, num(expires), handle(j.seq, uuid))
return { 'ok', dec(rcall('HGET', jkey(uuid), 'control')) or '' }
