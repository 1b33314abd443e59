-- lib/jobs.lua: a job's view, the indexes each state keeps, and what follows a state change
-- (unique keys, dependents), as zerog.lifecycle and zerog.flow say. Needs lib/core.lua.

local READY = { waiting = true, scheduled = true }
local FINAL = { complete = true, failed = true, cancelled = true, expired = true }
local HOLDS_KEY = { waiting = true, scheduled = true, depends = true, running = true, paused = true }
local DONE = { complete = true, cancelled = true, expired = true } -- pruned by retention.

local VIEW = { 'state', 'queue', 'priority', '_seq', 'ready_at', 'expires_at', 'lease_expires_at',
  'finished_at', 'throttles', 'unique_key', 'lease_token', 'attempts', 'max_retries',
  'ttr_seconds', 'started_at', 'dependents', 'depends', 'blocked_by' }

-- The fields of a job the scripts decide by, decoded; nil when there is no such job.
local function load(uuid)
  local v = rcall('HMGET', jkey(uuid), unpack(VIEW))
  if not v[1] then
    return nil
  end
  return {
    uuid = uuid,
    state = state_of(v[1]),
    queue = dec(v[2]),
    priority = tonumber(v[3]),
    seq = tonumber(v[4]),
    ready_at = tonumber(v[5]),
    expires_at = tonumber(v[6]),
    lease_expires_at = tonumber(v[7]),
    finished_at = tonumber(v[8]),
    throttles = v[9] and v[9] ~= '[]' and dec(v[9]) or {},
    unique_key = dec(v[10]),
    lease_token = tonumber(v[11]),
    attempts = tonumber(v[12]),
    max_retries = tonumber(v[13]),
    ttr_seconds = tonumber(v[14]),
    started_at = tonumber(v[15]),
    dependents = v[16] and v[16] ~= '[]' and dec(v[16]) or {},
    depends = v[17] and v[17] ~= '[]' and dec(v[17]) or {},
    blocked_by = v[18] and v[18] ~= '{}' and dec(v[18]) or {},
  }
end

local function limit_names(j)
  local names = { 'queue:' .. j.queue }
  for _, t in ipairs(j.throttles) do
    names[#names + 1] = t
  end
  return names
end

local function count(j, state, delta)
  rcall('HINCRBY', K_COUNTS, j.queue .. '\n' .. state, delta)
end

-- Take a job out of the indexes of ``state`` (its queue, priority and times as in ``j``).
local function unindex(j, state)
  local h = handle(j.seq, j.uuid)
  if READY[state] then
    rcall('ZREM', readykey(j.queue), h)
    rcall('ZREM', schedkey(j.queue), j.uuid)
    if j.expires_at then
      rcall('ZREM', K_TTL, j.uuid)
    end
  elseif state == 'running' then
    rcall('ZREM', K_RUNNING, h)
    for _, name in ipairs(limit_names(j)) do
      rcall('HINCRBY', K_LRUN, name, -1)
    end
  elseif state == 'failed' then
    rcall('ZREM', failedkey(j.queue), h)
  elseif DONE[state] then
    rcall('ZREM', K_DONE, h)
  end
  rcall('ZREM', stkey(state), j.uuid)
  count(j, state, -1)
end

-- Put a job in the indexes of ``state``; a ready one wakes the processes waiting on its queue.
local function index(j, state)
  local h = handle(j.seq, j.uuid)
  if state == 'waiting' then
    rcall('ZADD', readykey(j.queue), int(j.priority), h)
  elseif state == 'scheduled' then
    if j.ready_at <= NOW then
      rcall('ZADD', readykey(j.queue), int(j.priority), h)
    else
      rcall('ZADD', schedkey(j.queue), num(j.ready_at), j.uuid)
    end
  elseif state == 'running' then
    rcall('ZADD', K_RUNNING, num(j.lease_expires_at), h)
    for _, name in ipairs(limit_names(j)) do
      rcall('HINCRBY', K_LRUN, name, 1)
    end
  elseif state == 'failed' then
    rcall('ZADD', failedkey(j.queue), num(j.finished_at), h)
  elseif DONE[state] then
    rcall('ZADD', K_DONE, num(j.finished_at), h)
  end
  if READY[state] then
    if j.expires_at then
      rcall('ZADD', K_TTL, num(j.expires_at), j.uuid)
    end
    wake(j.queue)
  end
  rcall('ZADD', stkey(state), j.seq, j.uuid)
  count(j, state, 1)
end

local released -- forward: release_dependents and changed call each other through a chain.

-- What follows a state change in the same step (memory.py's _changed_state): the unique key,
-- and the dependents.
local function changed(j, before, after)
  if before == after then
    return
  end
  if j.unique_key then
    if FINAL[after] and rcall('HGET', K_UNIQ, j.unique_key) == j.uuid then
      rcall('HDEL', K_UNIQ, j.unique_key)
    elseif FINAL[before] and not FINAL[after] then
      rcall('HSET', K_UNIQ, j.unique_key, j.uuid)
    end
  end
  if after == 'complete' then
    released(j)
  elseif FINAL[after] or FINAL[before] then
    local blocked = FINAL[after] and after or nil
    for _, d in ipairs(j.dependents) do
      local dj = load(d)
      if dj and dj.state == 'depends' then
        dj.blocked_by[j.uuid] = blocked
        rcall('HSET', jkey(d), 'blocked_by', strmap(dj.blocked_by), 'updated_at', num(NOW))
        log(d, blocked and ('dependency-' .. blocked) or 'dependency-retried', 'depends', nil,
          j.uuid)
      end
    end
  end
end

-- A queued job now waits for ``pending`` (flow.wait_for); returns its new state.
local function wait_for(dj, pending)
  local state = dj.state
  local fields = { 'depends', strs(pending), 'updated_at', num(NOW) }
  if #pending > 0 and (state == 'waiting' or state == 'scheduled') then
    state = 'depends'
  elseif #pending == 0 and state == 'depends' then
    state = 'waiting'
    dj.ready_at = NOW
    fields[#fields + 1] = 'ready_at'
    fields[#fields + 1] = num(NOW)
  end
  if state ~= dj.state then
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = '"' .. state .. '"'
  end
  rcall('HSET', jkey(dj.uuid), unpack(fields))
  return state
end

-- ``j`` completed: each dependent drops it from what it waits for (flow.dependency_done).
released = function(j)
  for _, d in ipairs(j.dependents) do
    local dj = load(d)
    if dj then
      dj.blocked_by[j.uuid] = nil
      rcall('HSET', jkey(d), 'blocked_by', strmap(dj.blocked_by))
      local was = dj.state
      local after = wait_for(dj, without(dj.depends, j.uuid))
      if after ~= was then
        unindex(dj, was)
        index(dj, after)
        changed(dj, was, after)
      end
      if was == 'depends' and after == 'waiting' then
        log(d, 'dependencies-met', after, nil, j.uuid)
      end
    end
  end
end

-- Move a job to ``after``: the indexes and what follows (the caller wrote its fields).
local function move(j, before, after)
  unindex(j, before)
  index(j, after)
  changed(j, before, after)
end

-- A ready job whose TTL passed ends expired (lifecycle.expire).
local function expire(j)
  rcall('HSET', jkey(j.uuid), 'state', '"expired"', 'finished_at', num(NOW), 'updated_at', num(NOW))
  log(j.uuid, 'expired', 'expired')
  local before = j.state
  j.finished_at = NOW
  j.state = 'expired'
  move(j, before, 'expired')
end

-- The fields of a document as one JSON object text, without those starting with '_'.
local function doc_json(flat)
  local parts = {}
  for i = 1, #flat, 2 do
    local k = flat[i]
    if string.byte(k, 1) ~= 95 then -- '_'
      if string.find(k, '^[%w_%-]+$') then
        parts[#parts + 1] = '"' .. k .. '":' .. flat[i + 1]
      else
        parts[#parts + 1] = cjson.encode(k) .. ':' .. flat[i + 1]
      end
    end
  end
  return parts
end

local function list_json(key)
  return '[' .. table.concat(rcall('LRANGE', key, 0, -1), ',') .. ']'
end

-- A job's record as JSON text (with its history when asked); nil when there is none.
local function record_json(uuid, with_history)
  local flat = rcall('HGETALL', jkey(uuid))
  if #flat == 0 then
    return nil
  end
  local parts = doc_json(flat)
  parts[#parts + 1] = '"events":' .. list_json(evkey(uuid))
  parts[#parts + 1] = '"errors":' .. list_json(erkey(uuid))
  parts[#parts + 1] = '"samples":' .. list_json(smkey(uuid))
  if with_history then
    parts[#parts + 1] = '"history":' .. list_json(hkey(uuid))
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- The indexes that do not depend on the state: put order, queue, tags, tracking, recurrence.
local function tag(uuid, seq, t, delta)
  if delta > 0 then
    rcall('ZADD', tagkey(t), seq, uuid)
  else
    rcall('ZREM', tagkey(t), uuid)
  end
  if tonumber(rcall('ZINCRBY', K_TAGS, -delta, t)) >= 0 then
    rcall('ZREM', K_TAGS, t)
  end
end
