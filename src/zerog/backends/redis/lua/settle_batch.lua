-- settle_batch.lua: the worker's one write. Settle each finished run, then claim up to
-- ``count`` jobs from the worker's queues, in one step (Backend.settle_batch).
-- needs: core jobs put cron claim progress
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  count: jobs to claim (0: none)    ARGV[4]  worker id (of the claims)
-- ARGV[5]  the queues to claim from, in order (JSON list)
-- ARGV[6]  a nonce (see lib/core.lua), or ''
-- ARGV[7..] one settlement each (JSON):
--   u uuid, t lease token, w worker, s target state, e history event, d delay (seconds),
--   a attempts policy (keep, reset, refund), r result (JSON text, complete only), rc result
--   code, err error (JSON text), det history detail, q next queue (a pipeline step), dep its
--   dependencies, p progress (see lib/progress.lua), use the run's figures (JSON text)
--
-- Returns {'ok', lost uuids, claimed records (JSON texts)}, or {'error', 'unknown', ids...}
-- when a pipeline step names unknown dependencies (then nothing is written).

local before = replayed(ARGV[6])
if before then
  local reply = cjson.decode(before)
  local records = {}
  for _, uuid in ipairs(reply[2]) do
    records[#records + 1] = record_json(uuid, false)
  end
  return { 'ok', reply[1], records }
end

local settlements = {}
for i = 7, #ARGV do
  settlements[#settlements + 1] = cjson.decode(ARGV[i])
end

-- What may refuse a settlement is checked for all of them before any is written.
local pending_of = {}
for i, s in ipairs(settlements) do
  if s.dep and #s.dep > 0 then
    local pending, blocked = dependencies(s.dep)
    if not pending then
      return refuse('unknown', unpack(blocked))
    end
    pending_of[i] = { pending, blocked }
  end
end

local function attempts_after(attempts, policy)
  if policy == 'reset' then
    return 0
  elseif policy == 'refund' then
    return math.max(0, attempts - 1)
  end
  return attempts
end

-- lifecycle.apply_settlement, then what follows the state change.
local function settle(s, deps)
  local j = held(s.u, s.t, SETTLE_VIEW)
  if not j then
    return false
  end
  local fields = {}
  if s.p then
    apply_progress(s.u, s.p, fields)
  end
  local state = s.s
  local put = function(k, v)
    fields[#fields + 1] = k
    fields[#fields + 1] = v
  end
  if s.q then -- a pipeline step: the job starts afresh in the next queue.
    put('queue', str(s.q))
    put('completeness', '0.0')
    put('progress_message', 'null')
    rcall('DEL', smkey(s.u))
  end
  if state == 'waiting' and s.d > 0 then
    state = 'scheduled'
  end
  local ready_at = NOW + math.max(0, s.d)
  put('ready_at', num(ready_at))
  if state == 'complete' then
    put('result', s.r or 'null')
    put('result_code', s.rc and int(s.rc) or 'null')
    put('completeness', '1.0')
  elseif s.rc then
    put('result_code', int(s.rc))
  end
  if s.err then
    append_kept(erkey(s.u), { s.err }, 100)
  end
  if s.use then
    put('usage', s.use)
  end
  if FINAL[state] then
    put('finished_at', NOWT)
    j.finished_at = NOW
  end
  put('attempts', int(attempts_after(j.attempts, s.a)))
  put('worker', 'null')
  put('lease_expires_at', 'null')
  put('control', 'null')
  put('updated_at', NOWT)
  put('state', '"' .. state .. '"')
  rcall('HSET', jkey(s.u), unpack(fields))
  unindex(j, 'running')
  j.queue = s.q or j.queue
  j.ready_at = ready_at
  j.state = state
  if s.q and deps and #deps[1] > 0 then
    j.blocked_by = deps[2]
    rcall('HSET', jkey(s.u), 'blocked_by', strmap(deps[2]))
    state = wait_for(j, deps[1])
    for _, d in ipairs(deps[1]) do
      local dependents = dec(rcall('HGET', jkey(d), 'dependents')) or {}
      dependents[#dependents + 1] = s.u
      rcall('HSET', jkey(d), 'dependents', strs(dependents))
    end
  end
  log(s.u, s.e, state, s.w, s.det)
  index(j, state)
  changed(j, 'running', state)
  return true
end

local lost = {}
for i, s in ipairs(settlements) do
  if not settle(s, pending_of[i]) then
    lost[#lost + 1] = s.u
  end
end
local count = tonumber(ARGV[3])
local claimed, uuids = {}, {}
if count > 0 then
  claimed, uuids = claim(cjson.decode(ARGV[5]), ARGV[4], count)
end
flush()
if ARGV[6] ~= '' then
  remember(ARGV[6], cjson.encode({ lost, uuids }))
end
return { 'ok', lost, claimed }
