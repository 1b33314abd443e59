-- recur.lua: store a recurrence, replacing one with the same id but keeping its count (so
-- that spawned ids never repeat) and its place in creation order (Schedules.recur).
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the recurrence's id
-- ARGV[4]  n, then n (field, JSON text) pairs: the recurrence's keys
--
-- Returns {'ok'}.

local id = ARGV[3]
local key = rkey(id)
local old = rcall('HMGET', key, 'count', 'queue')
local flat, f = {}, {}
for i = 1, tonumber(ARGV[4]) do
  local k, v = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  f[k] = v
  flat[#flat + 1] = k
  flat[#flat + 1] = v
end
if old[1] then
  rcall('ZREM', rqkey(dec(old[2])), id)
  rcall('DEL', key)
end
rcall('HSET', key, unpack(flat))
if old[1] then
  rcall('HSET', key, 'count', old[1])
else
  rcall('ZADD', K_RECURS, rcall('INCR', K_SEQ), id)
end
local queue = dec(f.queue)
rcall('ZADD', rqkey(queue), num(tonumber(f.next_at)), id)
wake(queue)
return { 'ok' }
