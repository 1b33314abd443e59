-- lib/operate.lua: an operator's action on a job (lifecycle.OPERATOR_ACTIONS, which the
-- Python side passes for the action asked, so that one table rules every backend).
-- Needs lib/core.lua, jobs.lua, put.lua.
--
-- moves: {<state>: [to or null, event, fresh_start, expire_lease], ...}

-- Returns the state after (running when only asked of a running job), or a refusal.
local function operate(j, action, moves, worker)
  local before = j.state
  local m = moves[before]
  if not m then
    return nil, refuse('transition', before, action)
  end
  local to, event, fresh, expire_lease = m[1], m[2], m[3], m[4]
  if to == NULL then
    if expire_lease then
      rcall('HSET', jkey(j.uuid), 'lease_expires_at', NOWT)
      rcall('ZADD', K_RUNNING, NOWT, handle(j.seq, j.uuid))
    else
      rcall('HSET', jkey(j.uuid), 'control', str(action))
    end
    log(j.uuid, event, before, worker)
    return 'running'
  end
  if FINAL[before] then
    local other = holder(j.unique_key)
    if other and other ~= j.uuid then
      return nil, refuse('duplicate', j.unique_key, other)
    end
  end
  local fields = { 'state', '"' .. to .. '"', 'updated_at', NOWT }
  unindex(j, before)
  if to == 'waiting' then
    j.ready_at = NOW
    fields[#fields + 1] = 'ready_at'
    fields[#fields + 1] = NOWT
  end
  if FINAL[to] then
    j.finished_at = NOW
    fields[#fields + 1] = 'finished_at'
    fields[#fields + 1] = NOWT
  end
  if fresh then
    j.expires_at = nil
    for _, f in ipairs({ 'attempts', '0', 'finished_at', 'null', 'expires_at', 'null' }) do
      fields[#fields + 1] = f
    end
  end
  rcall('HSET', jkey(j.uuid), unpack(fields))
  log(j.uuid, event, to, worker)
  j.state = to
  index(j, to)
  changed(j, before, to)
  return to
end
