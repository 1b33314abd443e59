-- lib/claim.lua: claiming the next ready jobs of a worker's queues, with what a claim does
-- first in the same step: the queue's due recurrences spawn their jobs (zerog.recurrence),
-- due scheduled jobs join the ready set. Needs lib/core.lua, jobs.lua, put.lua, cron.lua.

local MAX_SPAWN = 1000 -- one claim spawns at most this many jobs of one recurrence.
local SCAN = 1000 -- ready jobs a claim looks at per queue before giving up (throttled ones).

local function unique_list(text)
  local seen, out = {}, {}
  for _, v in ipairs(dec(text) or {}) do
    if not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return strs(out)
end

-- A spawned job's fields: recurrence._job, new_record's keys (those at their default left
-- out, as a put leaves them: see DEFAULT_NAMES).
local function spawned(f, id, n)
  local job = {
    uuid = str(id .. '-' .. int(n)), type = f.type, kind = f.kind, queue = f.queue,
    state = '"waiting"', priority = int(tonumber(f.priority)), values = f.values,
    max_retries = int(tonumber(f.max_retries)), ttr_seconds = num(tonumber(f.ttr_seconds)),
    ready_at = NOWT, created_at = NOWT, updated_at = NOWT, recurrence = str(id),
  }
  local tags, throttles = unique_list(f.tags), unique_list(f.throttles)
  job.tags = tags ~= '[]' and tags or nil
  job.throttles = throttles ~= '[]' and throttles or nil
  return job
end

-- How many ticks are due at NOW (at most MAX_SPAWN) and the next one after (_due_times).
local function due_ticks(next_at, interval, cron)
  if next_at > NOW then
    return 0, next_at
  end
  if interval then
    local missed = math.floor((NOW - next_at) / interval) + 1
    local first = math.max(0, missed - MAX_SPAWN)
    return missed - first, next_at + interval * missed
  end
  local n = 0
  while next_at <= NOW and n < MAX_SPAWN do
    n = n + 1
    next_at = cron_next(cron, next_at)
  end
  if next_at <= NOW then
    next_at = cron_next(cron, NOW)
  end
  return n, next_at
end

-- Spawn what one recurrence owes now, and advance it.
local function spawn_one(id)
  local flat = rcall('HGETALL', rkey(id))
  local f = {}
  for i = 1, #flat, 2 do
    f[flat[i]] = flat[i + 1]
  end
  local n, next_at = due_ticks(tonumber(f.next_at), tonumber(f.interval_seconds), dec(f.cron))
  local backlog = tonumber(f.backlog) or 0
  if backlog > 0 and n > backlog then
    n = backlog
  end
  local made = tonumber(f.count)
  for _ = 1, n do
    made = made + 1
    local job = spawned(f, id, made)
    if rcall('EXISTS', jkey(dec(job.uuid))) == 0 then
      store_new(job, nil, {}, {})
    end
  end
  rcall('HSET', rkey(id), 'count', int(made), 'next_at', num(next_at))
  rcall('ZADD', rqkey(dec(f.queue)), num(next_at), id)
end

local function spawn(q)
  for _, id in ipairs(rcall('ZRANGEBYSCORE', rqkey(q), '-inf', NOWT, 'LIMIT', 0, 100)) do
    if rcall('EXISTS', rkey(id)) == 1 then
      spawn_one(id)
    else
      rcall('ZREM', rqkey(q), id)
    end
  end
end

-- Due scheduled jobs join the ready set, in their place by priority and put order.
local function promote(q)
  local due = rcall('ZRANGEBYSCORE', schedkey(q), '-inf', NOWT, 'LIMIT', 0, 1000)
  for _, uuid in ipairs(due) do
    local v = rcall('HMGET', jkey(uuid), 'priority', '_seq', 'fair_key')
    if v[1] then
      local h = handle(tonumber(v[2]), uuid)
      rcall('ZADD', readykey(q), v[1], h)
      fair_ready({ queue = q, fair_key = dec(v[3] or 'null') }, v[1], h)
    end
    rcall('ZREM', schedkey(q), uuid)
  end
end

-- Whether limit ``name`` has no room; ``maximum`` when the caller read it already.
local function full(name, maximum)
  maximum = maximum or rcall('HGET', K_LIMITS, name)
  if not maximum then
    return false
  end
  return counter(K_LRUN, name) >= tonumber(maximum)
end

-- --- rate limits: a log of starts per name (rs:<name>, a zset by start time) -------------------
-- A job may start while fewer than ``maximum`` starts of each of its names are in the last
-- ``per`` seconds (zerog.flow.rate_room); K_RATES holds 'maximum per' by name.
local function rskey(name) return P .. ':rs:' .. name end

local function rate_of(name)
  local r = rcall('HGET', P .. ':rates', name)
  if not r then
    return nil
  end
  local maximum, per = string.match(r, '^(%S+) (%S+)$')
  return tonumber(maximum), tonumber(per)
end

local function rate_full(name)
  local maximum, per = rate_of(name)
  if not maximum then
    return false
  end
  return rcall('ZCOUNT', rskey(name), '(' .. num(NOW - per), '+inf') >= maximum
end

-- Log the start of job ``j`` against its rate-limited names.
local function rate_started(j)
  for _, name in ipairs(limit_names(j)) do
    local maximum, per = rate_of(name)
    if maximum then
      rcall('ZADD', rskey(name), NOWT, j.uuid .. ':' .. int(j.lease_token + 1))
      rcall('ZREMRANGEBYSCORE', rskey(name), '-inf', '(' .. num(NOW - per - 60))
    end
  end
end

local function may_run(j)
  for _, name in ipairs(j.throttles) do
    if full(name) or rate_full(name) then
      return false
    end
  end
  return true
end

-- Key ``key``'s first ready job of priority ``prio`` in fair queue ``q`` and its handle, if it
-- may run; a key with no ready job left is dropped.
local function key_first(q, key, prio)
  local set = frkey(q, key)
  while true do
    local hs = rcall('ZRANGEBYSCORE', set, prio, prio, 'LIMIT', 0, 1)
    if not hs[1] then
      if rcall('ZCARD', set) == 0 then
        rcall('ZREM', fkkey(q), key)
      end
      return nil
    end
    local uuid = string.sub(hs[1], 13)
    local j = load(uuid, CLAIM_VIEW)
    if not j or not READY[j.state] or j.queue ~= q or fair_of(j) ~= key then
      rcall('ZREM', set, hs[1]) -- stale: the job moved on.
    elseif j.expires_at and j.expires_at <= NOW then
      expire(load(uuid))
    elseif may_run(j) then
      return j, hs[1]
    else
      return nil
    end
  end
end

-- A fair queue's next job (zerog.backends.sql.steps.fair says the same in SQL): among the ready
-- jobs of the queue's first priority, the oldest of the key served least recently whose first
-- job may run (keys of one turn, as the never served: the oldest first job); nil when none
-- may (the caller scans as in a queue without keys).
local function fair_pick(q)
  local head = rcall('ZRANGE', readykey(q), 0, 0, 'WITHSCORES')
  if not head[1] then
    return nil
  end
  local keys = rcall('ZRANGE', fkkey(q), 0, -1, 'WITHSCORES')
  local i = 1
  while i <= #keys do
    local turn, best, best_h = keys[i + 1], nil, nil
    while i <= #keys and keys[i + 1] == turn do
      local j, h = key_first(q, keys[i], head[2])
      if j and (not best_h or h < best_h) then
        best, best_h = j, h
      end
      i = i + 2
    end
    if best then
      return best
    end
  end
  return nil
end

-- The key of job ``j``, claimed from fair queue ``q``, had its turn.
local function served(q, j)
  rcall('ZADD', fkkey(q), rcall('HINCRBY', P .. ':fturn', q, 1), fair_of(j))
end

-- A ready job starts a run under a new lease (lifecycle.start_run).
local function start_run(j, worker)
  local before = j.state
  local attempts = j.attempts + 1
  j.lease_expires_at = NOW + j.ttr_seconds
  j.state = 'running'
  local fields = { 'state', '"running"', 'attempts', int(attempts), 'lease_token',
    int(j.lease_token + 1), 'worker', str(worker), 'lease_expires_at', num(j.lease_expires_at),
    'control', 'null', 'updated_at', NOWT }
  if not j.started_at then
    fields[#fields + 1] = 'started_at'
    fields[#fields + 1] = NOWT
  end
  rate_started(j)
  rcall('HSET', jkey(j.uuid), unpack(fields))
  log(j.uuid, 'reserved', 'running', worker, 'attempt ' .. int(attempts))
  move(j, before, 'running')
end

-- Claim from queue ``q`` until ``out`` holds ``want`` records (and ``ids`` their uuids).
local function claim_from(q, worker, want, out, ids)
  if rcall('SISMEMBER', K_PAUSED, q) == 1 then
    return
  end
  spawn(q)
  promote(q)
  local skipped, scanned = 0, 0
  local key = readykey(q)
  local limit = rcall('HGET', K_LIMITS, 'queue:' .. q) -- read once: nothing here changes it.
  local is_fair = rcall('SISMEMBER', fqkey(), q) == 1
  while is_fair and #out < want do
    if (limit and full('queue:' .. q, limit)) or rate_full('queue:' .. q) then
      return
    end
    local j = fair_pick(q)
    if not j then
      break
    end
    start_run(j, worker)
    served(q, j)
    out[#out + 1] = record_json(j.uuid)
    ids[#ids + 1] = j.uuid
  end
  while #out < want and scanned < SCAN do
    if (limit and full('queue:' .. q, limit)) or rate_full('queue:' .. q) then
      return
    end
    local handles = rcall('ZRANGE', key, skipped, skipped + math.min(want - #out, 50) - 1)
    if #handles == 0 then
      return
    end
    for _, h in ipairs(handles) do
      scanned = scanned + 1
      local uuid = string.sub(h, 13)
      local j = load(uuid, CLAIM_VIEW)
      if not j or not READY[j.state] or j.queue ~= q then
        rcall('ZREM', key, h) -- stale: the job moved on (never left by the scripts).
      elseif j.expires_at and j.expires_at <= NOW then
        expire(load(uuid)) -- with all it needs: its unique key, its dependents.
      elseif not may_run(j) then
        skipped = skipped + 1
      else
        start_run(j, worker)
        if is_fair then
          served(q, j)
        end
        out[#out + 1] = record_json(uuid)
        ids[#ids + 1] = uuid
        if #out >= want or (limit and full('queue:' .. q, limit)) or rate_full('queue:' .. q) then
          return
        end
      end
    end
  end
end

-- Claim up to ``want`` jobs from ``queues``, the first queue first: their records (JSON
-- texts) and uuids.
local function claim(queues, worker, want)
  local out, ids = {}, {}
  for _, q in ipairs(queues) do
    if #out >= want then
      break
    end
    claim_from(q, worker, want, out, ids)
  end
  return out, ids
end
