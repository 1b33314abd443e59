-- put.lua: store new jobs, all of them or none (Backend.put, Backend.put_many).
-- needs: core jobs put
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  a nonce (see lib/core.lua), or ''
-- ARGV[4]  how many jobs; then two arguments for each job:
--   its fields: field NUL JSON-text NUL field NUL ... (NUL is byte 0, which JSON text never
--   holds raw): the record's keys but events, errors and samples;
--   the rest (JSON) or '': ev, er, sm (events, errors, samples as JSON texts), dup ('refuse'
--   to refuse a duplicate unique key, else merge), deb (key, seconds, always_delay).
--
-- Its times are restamped to the server's: created_at becomes now, and ready_at and
-- expires_at move by as much. Every refusal is found before anything is written.
-- Returns {'ok', outcome, uuid, outcome, uuid, ...} (outcome: put, merged, delayed,
-- skipped), or {'error', 'exists' | 'unknown' | 'duplicate', ...}.

local before = replayed(ARGV[3])
if before then
  return cjson.decode(before)
end
local jobs = {}
for i = 1, tonumber(ARGV[4]) do
  local f = {}
  local key
  for piece in string.gmatch(ARGV[3 + 2 * i], '([^%z]*)%z') do
    if key then
      f[key] = piece
      key = nil
    else
      key = piece
    end
  end
  local rest = ARGV[4 + 2 * i] ~= '' and cjson.decode(ARGV[4 + 2 * i]) or {}
  jobs[i] = {
    f = f, uuid = dec(f.uuid), depends = dec(f.depends) or {}, opts = rest,
    lists = { events = rest.ev or {}, errors = rest.er or {}, samples = rest.sm or {} },
  }
end

-- First pass: what refuses the batch (an existing uuid, an unknown dependency, a unique key
-- held when a duplicate is refused), counting the jobs put before in the same batch.
local ours, keys = {}, {}
for _, job in ipairs(jobs) do
  if ours[job.uuid] or rcall('EXISTS', jkey(job.uuid)) == 1 then
    return refuse('exists', job.uuid)
  end
  local missing = {}
  for _, d in ipairs(job.depends) do
    if not ours[d] and rcall('EXISTS', jkey(d)) == 0 then
      missing[#missing + 1] = d
    end
  end
  if #missing > 0 then
    return refuse('unknown', unpack(missing))
  end
  local key = dec(job.f.unique_key)
  if key and job.opts.dup == 'refuse' then
    local other = keys[key] or holder(key)
    if other then
      return refuse('duplicate', key, other)
    end
  end
  if key and not keys[key] then
    keys[key] = job.uuid
  end
  ours[job.uuid] = true
end

-- Second pass: store them. A job of the batch merged or skipped stands for the one it merged
-- into, for the dependencies of the jobs after it.
local out = { 'ok' }
local alias = {}
local function placed(outcome, uuid)
  out[#out + 1] = outcome
  out[#out + 1] = uuid
end
for _, job in ipairs(jobs) do
  local f = job.f
  local depends = {}
  for i, d in ipairs(job.depends) do
    depends[i] = alias[d] or d
  end
  local pending, blocked = dependencies(depends, job.f.batch_members ~= nil)
  if not pending then -- a dependency merged away (an edge of batches): nothing to wait for.
    pending, blocked = {}, {}
  end
  local other = holder(dec(f.unique_key))
  if other then
    alias[job.uuid] = other
    placed('merged', other)
  else
    local outcome, delay, uuid = 'put', 0, job.uuid
    if job.opts.deb then
      outcome, delay, uuid = debounce(job.opts.deb, job.uuid)
    end
    if outcome == 'skipped' then
      alias[job.uuid] = uuid
      placed(outcome, uuid)
    else
      local shift = NOW - tonumber(f.created_at)
      if shift ~= 0 then
        f.created_at = NOWT
        f.ready_at = num(tonumber(f.ready_at) + shift)
        if f.expires_at and f.expires_at ~= 'null' then
          f.expires_at = num(tonumber(f.expires_at) + shift)
        end
      end
      if delay > 0 then
        f.state = '"scheduled"'
        f.ready_at = num(NOW + delay)
      end
      store_new(f, job.lists, pending, blocked)
      placed(outcome, job.uuid)
    end
  end
end
flush()
remember(ARGV[3], cjson.encode(out))
return out
