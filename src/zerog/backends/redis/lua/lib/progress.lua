-- lib/progress.lua: a running job's report written into its record (lifecycle.apply_progress)
-- and the check of a worker's lease. Needs lib/core.lua, lib/jobs.lua.
--
-- A progress report (JSON, None fields left out by the Python side):
--   c    completeness (clamped to 0..1)       m    the message's JSON text
--   smp  a sample's JSON text [time, c]       smc  that sample's completeness
--   ev   events' JSON texts, me: how many to keep
--   er   errors' JSON texts, mr: how many to keep
--   v    the values' JSON text (the checkpoint)

local MAX_SAMPLES = 20

-- Append ``items`` to a job's list and keep the newest ``keep``.
local function append_kept(key, items, keep)
  if items and #items > 0 then
    rpush_all(key, items)
    rcall('LTRIM', key, -keep, -1)
  end
end

-- Write the report; the record's own fields go into ``fields`` (field, text, ...) for the
-- caller's one HSET. Returns whether anything of the record changed (``updated_at``).
local function apply_progress(uuid, p, fields)
  if p.c then
    fields[#fields + 1] = 'completeness'
    fields[#fields + 1] = num(math.min(1.0, math.max(0.0, p.c)))
  end
  if p.smp then
    local last = rcall('LINDEX', smkey(uuid), -1)
    if not last or cjson.decode(last)[2] ~= p.smc then
      rcall('RPUSH', smkey(uuid), p.smp)
      rcall('LTRIM', smkey(uuid), -MAX_SAMPLES, -1)
    end
  end
  if p.m then
    fields[#fields + 1] = 'progress_message'
    fields[#fields + 1] = p.m
  end
  if p.v then
    fields[#fields + 1] = 'values'
    fields[#fields + 1] = p.v
  end
  append_kept(evkey(uuid), p.ev, p.me)
  append_kept(erkey(uuid), p.er, p.mr)
end

-- The job (its ``fields``) if ``uuid`` runs under lease ``token``, else nil (the lease was
-- lost).
local function held(uuid, token, fields)
  local j = load(uuid, fields)
  if not j or j.state ~= 'running' or j.lease_token ~= token then
    return nil
  end
  return j
end
