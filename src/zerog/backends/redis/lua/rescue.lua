-- rescue.lua: running jobs whose lease expired go back to waiting, or fail when their
-- attempts are used up; ready jobs past their TTL expire (Backend.rescue_expired). At most
-- ``limit`` jobs per call, oldest lease first: the caller calls again for more, so a
-- hundred thousand expired leases never pass through one script (or one unpack).
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  limit                             ARGV[4]  the error of a worker lost
--
-- Returns {'ok', the uuids moved}.

local limit = tonumber(ARGV[3])
local moved = {}

-- lifecycle.rescue
local function rescue(j)
  local fields = { 'worker', 'null', 'lease_expires_at', 'null', 'control', 'null',
    'updated_at', NOWT }
  local state, event
  if j.attempts > j.max_retries then
    state, event = 'failed', 'failed-worker-lost'
    j.finished_at = NOW
    fields[#fields + 1] = 'finished_at'
    fields[#fields + 1] = NOWT
    rcall('RPUSH', erkey(j.uuid), '{"timeStamp":' .. NOWT .. ',"errorCode":null,"msg":'
      .. str(ARGV[4]) .. '}')
    rcall('LTRIM', erkey(j.uuid), -100, -1)
  else
    state, event = 'waiting', 'lease-expired'
    j.ready_at = NOW
    fields[#fields + 1] = 'ready_at'
    fields[#fields + 1] = NOWT
  end
  fields[#fields + 1] = 'state'
  fields[#fields + 1] = '"' .. state .. '"'
  rcall('HSET', jkey(j.uuid), unpack(fields))
  log(j.uuid, event, state)
  j.state = state
  move(j, 'running', state)
end

for _, h in ipairs(rcall('ZRANGEBYSCORE', K_RUNNING, '-inf', NOWT, 'LIMIT', 0, limit)) do
  local j = load(string.sub(h, 13))
  if j and j.state == 'running' then
    rescue(j)
    moved[#moved + 1] = j.uuid
  else
    rcall('ZREM', K_RUNNING, h)
  end
end
if #moved < limit then
  local due = rcall('ZRANGEBYSCORE', K_TTL, '-inf', NOWT, 'LIMIT', 0, limit - #moved)
  for _, uuid in ipairs(due) do
    local j = load(uuid)
    if j and READY[j.state] and j.expires_at and j.expires_at <= NOW then
      expire(j)
      moved[#moved + 1] = uuid
    else
      rcall('ZREM', K_TTL, uuid)
    end
  end
end
flush()
return { 'ok', moved }
