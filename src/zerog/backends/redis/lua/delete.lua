-- delete.lua: delete one finished job (complete, failed, cancelled, expired) with its history
-- and every index that names it (Backend.delete). Refused while it is not finished, or while
-- a job in depends still waits for it. A unique key it still holds is freed, and it leaves
-- the dependents list of each job it depended on.
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (unused)
-- ARGV[3]  the job's uuid
--
-- Returns {'ok', 1} (deleted), {'ok', 0} (no such job), or {'error', 'transition', uuid, state}.

local uuid = ARGV[3]
local j = load(uuid)
if not j then
  return { 'ok', 0 }
end
local state = j.state
local waited = false
for _, d in ipairs(j.dependents) do
  local dj = load(d, { 'state', 'depends' })
  if dj and dj.state == 'depends' and contains(dj.depends, uuid) then
    waited = true
  end
end
if not FINAL[state] or waited then
  return refuse('transition', state, 'delete')
end
unindex(j, state)
if j.unique_key and rcall('HGET', K_UNIQ, j.unique_key) == uuid then
  rcall('HDEL', K_UNIQ, j.unique_key)
end
for _, d in ipairs(j.depends) do
  local dj = load(d, { 'state', 'dependents' })
  if dj then
    rcall('HSET', jkey(d), 'dependents', cjson.encode(without(dj.dependents, uuid)))
  end
end
local v = rcall('HMGET', jkey(uuid), 'tags', 'tracked', 'recurrence')
for _, t in ipairs(dec(v[1]) or {}) do
  tag(uuid, j.seq, t, -1)
end
if v[2] == 'true' then
  rcall('ZREM', K_TRACKED, uuid)
end
local rid = dec(v[3])
if rid then
  rcall('ZREM', rjkey(rid), uuid)
end
rcall('ZREM', K_ALL, uuid)
rcall('ZREM', qakey(j.queue), uuid)
rcall('DEL', jkey(uuid), hkey(uuid), evkey(uuid), erkey(uuid), smkey(uuid))
flush()
return { 'ok', 1 }
