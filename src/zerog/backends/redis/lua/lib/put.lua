-- lib/put.lua: storing a new job with everything that follows in the same step (its
-- dependencies, unique key, debounce, indexes, history). Needs lib/core.lua, lib/jobs.lua.

-- The job holding a unique key now (flow.holds_key), if any: one not finished, or finished
-- within its idempotency window (its K_UNIQ entry is kept then, see changed in lib/jobs.lua).
local function holder(key)
  if not key then
    return nil
  end
  local uuid = rcall('HGET', K_UNIQ, key)
  if not uuid then
    return nil
  end
  local v = rcall('HMGET', jkey(uuid), 'state', 'finished_at', 'unique_window_seconds')
  if v[1] and HOLDS_KEY[state_of(v[1])] then
    return uuid
  end
  local finished, window = v[2] and tonumber(v[2]), v[3] and tonumber(v[3])
  if finished and window and NOW < finished + window then
    return uuid
  end
  return nil
end

-- The unfinished ones of ``depends`` and those that block (failed, cancelled, expired); nil
-- and the missing ids when some do not exist. With ``any_end`` (a batch's callback), every
-- final state is done.
local function dependencies(depends, any_end)
  local pending, blocked, missing = {}, {}, {}
  for _, d in ipairs(depends) do
    local state = rcall('HGET', jkey(d), 'state')
    if not state then
      missing[#missing + 1] = d
    else
      state = state_of(state)
      if any_end and FINAL[state] then -- a batch's callback: an ended member is done.
        state = 'complete'
      end
      if state ~= 'complete' then
        pending[#pending + 1] = d
        if FINAL[state] then
          blocked[d] = state
        end
      end
    end
  end
  if #missing > 0 then
    return nil, missing
  end
  return pending, blocked
end

-- deferrable's debounce (flow.debounce_plan): the outcome and the delay of a push, and the
-- key's new plan stored.
local function debounce(plan, uuid)
  local text = rcall('HGET', K_DEBOUNCE, plan.key)
  local entry = text and cjson.decode(text) or {}
  local pending_until = tonumber(entry.pending_until)
  if pending_until and pending_until > NOW then
    return 'skipped', 0, entry.uuid
  end
  local last = tonumber(entry.last_push)
  local delay
  if plan.always_delay then
    delay = plan.seconds
  elseif not last or NOW - last > plan.seconds then
    rcall('HSET', K_DEBOUNCE, plan.key,
      '{"last_push":' .. NOWT .. ',"pending_until":null,"uuid":' .. str(uuid) .. '}')
    return 'put', 0, uuid
  else
    delay = math.ceil(plan.seconds - (NOW - last))
  end
  local at = num(NOW + delay)
  rcall('HSET', K_DEBOUNCE, plan.key,
    '{"last_push":' .. at .. ',"pending_until":' .. at .. ',"uuid":' .. str(uuid) .. '}')
  return 'delayed', delay, uuid
end

-- Store a new job. ``f`` maps its fields to their JSON texts (the lists events, errors and
-- samples apart, in ``lists``); ``pending`` and ``blocked`` are its dependencies
-- (see dependencies()). Writes the record, its links, its indexes and its 'put' history.
local function store_new(f, lists, pending, blocked)
  local uuid = dec(f.uuid)
  local seq = rcall('INCR', K_SEQ)
  f._seq = int(seq)
  f.blocked_by = next(blocked) and strmap(blocked) or nil
  f.depends = #pending > 0 and strs(pending) or nil
  f.updated_at = NOWT
  local state = state_of(f.state)
  if #pending > 0 and (state == 'waiting' or state == 'scheduled') then
    state = 'depends'
    f.state = '"depends"'
  end
  local flat = {}
  for k, v in pairs(f) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  rcall('HSET', jkey(uuid), unpack(flat))
  if lists then
    if #lists.events > 0 then rpush_all(evkey(uuid), lists.events) end
    if #lists.errors > 0 then rpush_all(erkey(uuid), lists.errors) end
    if #lists.samples > 0 then rpush_all(smkey(uuid), lists.samples) end
  end
  log(uuid, 'put', state)
  for _, d in ipairs(pending) do
    local dependents = dec(rcall('HGET', jkey(d), 'dependents')) or {}
    dependents[#dependents + 1] = uuid
    rcall('HSET', jkey(d), 'dependents', strs(dependents))
  end
  local j = {
    uuid = uuid, seq = seq, queue = dec(f.queue), priority = tonumber(f.priority),
    ready_at = tonumber(f.ready_at), expires_at = tonumber(f.expires_at),
    unique_key = dec(f.unique_key), throttles = {}, dependents = {}, fair_key = dec(f.fair_key),
  }
  if j.unique_key then
    rcall('HSET', K_UNIQ, j.unique_key, uuid)
  end
  rcall('ZADD', K_ALL, seq, uuid)
  rcall('ZADD', qakey(j.queue), seq, uuid)
  for _, t in ipairs(dec(f.tags) or {}) do
    tag(uuid, seq, t, 1)
  end
  if f.tracked == 'true' then
    rcall('ZADD', K_TRACKED, seq, uuid)
  end
  local rid = dec(f.recurrence)
  if rid then
    rcall('ZADD', rjkey(rid), seq, uuid)
  end
  index(j, state)
  return state
end
