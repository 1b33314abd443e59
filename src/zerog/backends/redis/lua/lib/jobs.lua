-- lib/jobs.lua: a job's view, the indexes each state keeps, and what follows a state change
-- (unique keys, dependents), as zerog.lifecycle and zerog.flow say. Needs lib/core.lua.

local READY = { waiting = true, scheduled = true }
local FINAL = { complete = true, failed = true, cancelled = true, expired = true }
local HOLDS_KEY = { waiting = true, scheduled = true, depends = true, running = true, paused = true }
local DONE = { complete = true, cancelled = true, expired = true } -- pruned by retention.

-- Keys a new record mostly holds at these values: a put leaves them out of the hash (the
-- Python side, _codec.DEFAULTS), and a read puts them back.
local DEFAULT_NAMES = { 'attempts', 'lease_token', 'completeness', 'tags', 'depends',
  'dependents', 'throttles', 'blocked_by', 'tracked', 'ttl_seconds', 'stall_seconds',
  'expires_at', 'started_at', 'finished_at', 'progress_message', 'result', 'result_code',
  'worker', 'lease_expires_at', 'control', 'unique_key', 'recurrence', 'fair_key' }
local DEFAULT_TEXT = { attempts = '0', lease_token = '0', completeness = '0.0', tags = '[]',
  depends = '[]', dependents = '[]', throttles = '[]', blocked_by = '{}', tracked = 'false' }

-- The fields of a job the scripts decide by, and how each is decoded.
local function tonum(text) -- tonumber is a global: a library being loaded cannot see it.
  return tonumber(text)
end
local DECODE = {
  state = state_of, queue = dec, priority = tonum, _seq = tonum, ready_at = tonum,
  expires_at = tonum, lease_expires_at = tonum, finished_at = tonum, unique_key = dec,
  lease_token = tonum, attempts = tonum, max_retries = tonum, ttr_seconds = tonum,
  started_at = tonum, fair_key = dec,
}
local LISTED = { throttles = '[]', dependents = '[]', depends = '[]', blocked_by = '{}' }
local VIEW = { 'state', 'queue', 'priority', '_seq', 'ready_at', 'expires_at', 'lease_expires_at',
  'finished_at', 'throttles', 'unique_key', 'lease_token', 'attempts', 'max_retries',
  'ttr_seconds', 'started_at', 'dependents', 'depends', 'blocked_by', 'fair_key' }
-- What a claim reads of a ready job, and a settlement of a running one.
local CLAIM_VIEW = { 'state', 'queue', 'priority', '_seq', 'expires_at', 'throttles',
  'lease_token', 'attempts', 'ttr_seconds', 'started_at', 'fair_key' }
local SETTLE_VIEW = { 'state', 'queue', 'priority', '_seq', 'expires_at', 'throttles',
  'unique_key', 'lease_token', 'attempts', 'dependents', 'fair_key' }

-- A job's fields (``fields``, default VIEW) decoded: nil when there is no such job. The
-- lists default to empty, the others to nil.
local function load(uuid, fields)
  fields = fields or VIEW
  local v = rcall('HMGET', jkey(uuid), unpack(fields))
  if not v[1] then
    return nil
  end
  local j = { uuid = uuid, throttles = {}, dependents = {}, depends = {}, blocked_by = {} }
  for i, name in ipairs(fields) do
    local raw = v[i]
    if raw then
      local empty = LISTED[name]
      if empty then
        if raw ~= empty then
          j[name] = dec(raw)
        end
      else
        j[name] = DECODE[name](raw)
      end
    end
  end
  j.seq = j._seq
  j.attempts = j.attempts or 0
  j.lease_token = j.lease_token or 0
  return j
end

local function limit_names(j)
  local names = { 'queue:' .. j.queue }
  for _, t in ipairs(j.throttles) do
    names[#names + 1] = t
  end
  return names
end

local function count(j, state, delta)
  bump(K_COUNTS, j.queue .. '\n' .. state, delta)
end

-- --- fair share (zerog.flow.fair_key_of) -------------------------------------------------------
-- A queue turns fair when a job with a fair key enters its ready set: from then on each of its
-- ready jobs is also in the set of its key (fr:<queue>:<key>, by priority then put order; the
-- jobs without a key under ''), and fk:<queue> holds the keys by the turn each was last
-- served at (fturn: the turns given per queue). Queues without keys cost one SISMEMBER.
local function fqkey() return P .. ':fq' end -- set of fair queues
local function fkkey(q) return P .. ':fk:' .. q end -- zset: key -> turn last served
local function frkey(q, key) return P .. ':fr:' .. q .. ':' .. key end -- zset: its ready jobs

local function fair_of(j)
  return type(j.fair_key) == 'string' and j.fair_key or ''
end

local function fair_add(q, key, priority, h)
  rcall('ZADD', frkey(q, key), priority, h)
  rcall('ZADD', fkkey(q), 'NX', 0, key)
end

-- Job ``j`` (its queue and fair key) entered its queue's ready set under handle ``h``.
local function fair_ready(j, priority, h)
  local key = fair_of(j)
  if rcall('SISMEMBER', fqkey(), j.queue) == 1 then
    fair_add(j.queue, key, priority, h)
  elseif key ~= '' then -- the queue turns fair: its ready jobs join their keys' sets.
    rcall('SADD', fqkey(), j.queue)
    local all = rcall('ZRANGE', readykey(j.queue), 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do
      local other = dec(rcall('HGET', jkey(string.sub(all[i], 13)), 'fair_key') or 'null')
      fair_add(j.queue, type(other) == 'string' and other or '', all[i + 1], all[i])
    end
    fair_add(j.queue, key, priority, h)
  end
end

local function fair_unready(j, h)
  if rcall('SISMEMBER', fqkey(), j.queue) == 1 then
    rcall('ZREM', frkey(j.queue, fair_of(j)), h)
  end
end

-- Take a job out of the indexes of ``state`` (its queue, priority and times as in ``j``).
local function unindex(j, state)
  local h = handle(j.seq, j.uuid)
  if READY[state] then
    rcall('ZREM', readykey(j.queue), h)
    fair_unready(j, h)
    if state == 'scheduled' then -- in the scheduled set until due, then in the ready set.
      rcall('ZREM', schedkey(j.queue), j.uuid)
    end
    if j.expires_at then
      rcall('ZREM', K_TTL, j.uuid)
    end
  elseif state == 'running' then
    rcall('ZREM', K_RUNNING, h)
    for _, name in ipairs(limit_names(j)) do
      bump(K_LRUN, name, -1)
    end
  elseif state == 'failed' then
    rcall('ZREM', failedkey(j.queue), h)
  elseif DONE[state] then
    rcall('ZREM', K_DONE, h)
  end
  if state ~= 'running' then -- running jobs are listed from the running set itself.
    rcall('ZREM', stkey(state), j.uuid)
  end
  count(j, state, -1)
end

-- Put a job in the indexes of ``state``; a ready one wakes the processes waiting on its queue.
local function index(j, state)
  local h = handle(j.seq, j.uuid)
  if state == 'waiting' then
    rcall('ZADD', readykey(j.queue), int(j.priority), h)
    fair_ready(j, int(j.priority), h)
  elseif state == 'scheduled' then
    if j.ready_at <= NOW then
      rcall('ZADD', readykey(j.queue), int(j.priority), h)
      fair_ready(j, int(j.priority), h)
    else
      rcall('ZADD', schedkey(j.queue), num(j.ready_at), j.uuid)
    end
  elseif state == 'running' then
    rcall('ZADD', K_RUNNING, num(j.lease_expires_at), h)
    for _, name in ipairs(limit_names(j)) do
      bump(K_LRUN, name, 1)
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
  if state ~= 'running' then
    rcall('ZADD', stkey(state), j.seq, j.uuid)
  end
  count(j, state, 1)
end

-- Whether job ``uuid`` is a batch's callback (flow.counts_any_end): it waits for its
-- members to end in any final state, not to complete.
local function is_callback(uuid)
  return rcall('HEXISTS', jkey(uuid), 'batch_members') == 1
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
      if not rcall('HGET', jkey(j.uuid), 'unique_window_seconds') then -- else holder weighs it.
        rcall('HDEL', K_UNIQ, j.unique_key)
      end
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
      if dj and dj.state == 'depends' and is_callback(d) then
        if blocked then -- a batch's callback: a member's end is not a block.
          released(j, d)
        end
      elseif dj and dj.state == 'depends' then
        dj.blocked_by[j.uuid] = blocked
        rcall('HSET', jkey(d), 'blocked_by', strmap(dj.blocked_by), 'updated_at', NOWT)
        log(d, blocked and ('dependency-' .. blocked) or 'dependency-retried', 'depends', nil,
          j.uuid)
      end
    end
  end
end

-- A queued job now waits for ``pending`` (flow.wait_for); returns its new state.
local function wait_for(dj, pending)
  local state = dj.state
  local fields = { 'depends', strs(pending), 'updated_at', NOWT }
  if #pending > 0 and (state == 'waiting' or state == 'scheduled') then
    state = 'depends'
  elseif #pending == 0 and state == 'depends' then
    state = 'waiting'
    dj.ready_at = NOW
    fields[#fields + 1] = 'ready_at'
    fields[#fields + 1] = NOWT
  end
  if state ~= dj.state then
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = '"' .. state .. '"'
  end
  rcall('HSET', jkey(dj.uuid), unpack(fields))
  return state
end

-- ``j`` completed: each dependent drops it from what it waits for (flow.dependency_done);
-- with ``only``, that one dependent (a batch's callback, when its member ``j`` ended).
released = function(j, only)
  for _, d in ipairs(only and { only } or j.dependents) do
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
        log(d, is_callback(d) and 'batch-done' or 'dependencies-met', after, nil, j.uuid)
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
  rcall('HSET', jkey(j.uuid), 'state', '"expired"', 'finished_at', NOWT, 'updated_at', NOWT)
  log(j.uuid, 'expired', 'expired')
  local before = j.state
  j.finished_at = NOW
  j.state = 'expired'
  move(j, before, 'expired')
end

-- Field names as JSON object keys, made once per script run.
local quoted = {}

-- The fields of a document as the parts of one JSON object text, without those starting
-- with '_'; and the names seen.
local function doc_json(flat)
  local parts, seen = {}, {}
  for i = 1, #flat, 2 do
    local k = flat[i]
    local q = quoted[k]
    if not q then
      q = string.byte(k, 1) == 95 and '' or (cjson.encode(k) .. ':') -- '_': kept out.
      quoted[k] = q
    end
    if q ~= '' then
      parts[#parts + 1] = q .. flat[i + 1]
      seen[k] = true
    end
  end
  return parts, seen
end

-- A job's record as JSON text (with its history when asked); nil when there is none.
local function record_json(uuid, with_history)
  local flat = rcall('HGETALL', jkey(uuid))
  if #flat == 0 then
    return nil
  end
  local parts, seen = doc_json(flat)
  for _, name in ipairs(DEFAULT_NAMES) do
    if not seen[name] then
      parts[#parts + 1] = '"' .. name .. '":' .. (DEFAULT_TEXT[name] or 'null')
    end
  end
  local lists = { 'events', evkey(uuid), 'errors', erkey(uuid), 'samples', smkey(uuid) }
  local some = rcall('EXISTS', lists[2], lists[4], lists[6]) > 0
  for i = 1, 5, 2 do
    local items = some and rcall('LRANGE', lists[i + 1], 0, -1) or {}
    parts[#parts + 1] = '"' .. lists[i] .. '":[' .. table.concat(items, ',') .. ']'
  end
  if with_history then
    parts[#parts + 1] = '"history":[' .. table.concat(rcall('LRANGE', hkey(uuid), 0, -1), ',') .. ']'
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
