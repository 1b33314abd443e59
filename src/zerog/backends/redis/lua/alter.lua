-- alter.lua: change a job's priority, queue, due time, tags, tracking or dependencies in one
-- step (Backend.alter).
-- needs: core jobs put
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the job's uuid
-- ARGV[4]  the change (JSON; fields of zerog.model.Change, None ones left out)
-- ARGV[5]  who changes it (JSON text: a string or null)
--
-- Returns {'ok', the record after (JSON text)}, or {'error', 'notfound' | 'transition' |
-- 'unknown' | 'cycle', ...}; nothing is written then.

local uuid = ARGV[3]
local c = cjson.decode(ARGV[4])
local worker = dec(ARGV[5])
local QUEUED = { waiting = true, scheduled = true, depends = true, paused = true }

local j = load(uuid)
if not j then
  return refuse('notfound', uuid)
end
local depend, undepend = c.depend or {}, c.undepend or {}
local moves_job = c.priority or c.queue or c.delay_seconds or #depend > 0 or #undepend > 0
  or c.undepend_all
if moves_job and not QUEUED[j.state] then
  return refuse('transition', j.state, 'change the queue, priority or dependencies of')
end
if c.delay_seconds and not READY[j.state] then
  return refuse('transition', j.state, 'reschedule')
end

-- Whether making ``uuid`` wait for ``on`` closes a loop (flow.would_cycle).
local function would_cycle(on)
  local seen, todo = {}, { on }
  while #todo > 0 do
    local current = table.remove(todo)
    if current == uuid then
      return true
    end
    if not seen[current] then
      seen[current] = true
      for _, d in ipairs(dec(rcall('HGET', jkey(current), 'depends')) or {}) do
        todo[#todo + 1] = d
      end
    end
  end
  return false
end

local added, missing = dependencies(depend)
if not added then
  return refuse('unknown', unpack(missing))
end
for _, on in ipairs(added) do
  if would_cycle(on) then
    return refuse('cycle', uuid, on)
  end
end

local before = { state = j.state, queue = j.queue }
unindex(j, j.state)
local fields = {}
local function put(k, v)
  fields[#fields + 1] = k
  fields[#fields + 1] = v
end

-- Placement: priority, queue, due time.
if c.priority and c.priority ~= j.priority then
  log(uuid, 'priority', j.state, worker, int(j.priority) .. ' -> ' .. int(c.priority))
  j.priority = c.priority
  put('priority', int(c.priority))
end
if c.queue and c.queue ~= j.queue then
  log(uuid, 'moved', j.state, worker, j.queue .. ' -> ' .. c.queue)
  rcall('ZREM', qakey(j.queue), uuid)
  rcall('ZADD', qakey(c.queue), j.seq, uuid)
  j.queue = c.queue
  put('queue', str(c.queue))
end
if c.delay_seconds then
  local delay = math.max(0, c.delay_seconds)
  j.ready_at = NOW + delay
  j.state = delay > 0 and 'scheduled' or 'waiting'
  put('ready_at', num(j.ready_at))
  put('state', '"' .. j.state .. '"')
  log(uuid, 'rescheduled', j.state, worker, 'due in ' .. string.format('%g', delay) .. ' s')
end
put('updated_at', NOWT)

-- Labels: tags and tracking.
local tags = dec(rcall('HGET', jkey(uuid), 'tags')) or {}
if #(c.add_tags or {}) > 0 or #(c.remove_tags or {}) > 0 then
  local kept, seen = {}, {}
  for _, t in ipairs(tags) do
    if not contains(c.remove_tags or {}, t) and not seen[t] then
      kept[#kept + 1], seen[t] = t, true
    end
  end
  for _, t in ipairs(c.add_tags or {}) do
    if not seen[t] then
      kept[#kept + 1], seen[t] = t, true
    end
  end
  for _, t in ipairs(tags) do
    if not seen[t] then tag(uuid, j.seq, t, -1) end
  end
  for _, t in ipairs(kept) do
    if not contains(tags, t) then tag(uuid, j.seq, t, 1) end
  end
  put('tags', strs(kept))
end
if c.tracked ~= nil then
  put('tracked', c.tracked and 'true' or 'false')
  if c.tracked then
    rcall('ZADD', K_TRACKED, j.seq, uuid)
  else
    rcall('ZREM', K_TRACKED, uuid)
  end
end
rcall('HSET', jkey(uuid), unpack(fields))

-- Dependencies (memory.py's _alter_dependencies).
if #depend > 0 or #undepend > 0 or c.undepend_all then
  local was = j.state
  local dropped = c.undepend_all and j.depends or undepend
  local pending, seen = {}, {}
  for _, d in ipairs(j.depends) do
    if not contains(dropped, d) and not seen[d] then
      pending[#pending + 1], seen[d] = d, true
    end
  end
  for _, d in ipairs(added) do
    if not seen[d] then
      pending[#pending + 1], seen[d] = d, true
    end
  end
  for _, d in ipairs(dropped) do
    local others = dec(rcall('HGET', jkey(d), 'dependents'))
    if others and contains(others, uuid) then
      rcall('HSET', jkey(d), 'dependents', strs(without(others, uuid)))
    end
    j.blocked_by[d] = nil
  end
  for _, d in ipairs(added) do
    local v = rcall('HMGET', jkey(d), 'dependents', 'state')
    local others = dec(v[1]) or {}
    if not contains(others, uuid) then
      others[#others + 1] = uuid
      rcall('HSET', jkey(d), 'dependents', strs(others))
    end
    if FINAL[state_of(v[2])] then
      j.blocked_by[d] = state_of(v[2])
    end
  end
  rcall('HSET', jkey(uuid), 'blocked_by', strmap(j.blocked_by))
  j.state = wait_for(j, pending)
  if #added > 0 then
    log(uuid, 'depends', j.state, worker, table.concat(added, ', '))
  end
  if #dropped > 0 then
    log(uuid, 'undepends', j.state, worker, table.concat(dropped, ', '))
  end
  if was == 'depends' and j.state ~= was then
    log(uuid, 'dependencies-met', j.state, worker)
  end
end
index(j, j.state)
flush()
return { 'ok', record_json(uuid, false) }
