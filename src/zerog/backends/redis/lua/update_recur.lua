-- update_recur.lua: change some keys of a recurrence in one step; a new schedule counts
-- from now (Schedules.update_recurrence, zerog.recurrence.apply_update, which the Python
-- side has run to check the change). Its count is left alone, so that a claim spawning at
-- the same moment loses nothing.
-- needs: core jobs cron
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (unused)
-- ARGV[3]  the recurrence's id
-- ARGV[4]  '1' when the schedule changed (next_at is then computed from now)
-- ARGV[5]  n, then n (field, JSON text) pairs: the keys changed
--
-- Returns {'ok', the recurrence after (JSON text)}, or {'error', 'notfound', id}.

local id = ARGV[3]
local key = rkey(id)
local old_queue = rcall('HGET', key, 'queue')
if not old_queue then
  return refuse('notfound', id)
end
local flat = {}
for i = 1, tonumber(ARGV[5]) do
  flat[#flat + 1] = ARGV[4 + 2 * i]
  flat[#flat + 1] = ARGV[5 + 2 * i]
end
if #flat > 0 then
  rcall('HSET', key, unpack(flat))
end
local v = rcall('HMGET', key, 'queue', 'interval_seconds', 'cron', 'next_at')
local next_at = tonumber(v[4])
if ARGV[4] == '1' then
  local interval = tonumber(v[2])
  next_at = interval and NOW + interval or cron_next(dec(v[3]), NOW)
  rcall('HSET', key, 'next_at', num(next_at))
end
rcall('ZREM', rqkey(dec(old_queue)), id)
rcall('ZADD', rqkey(dec(v[1])), num(next_at), id)
return { 'ok', '{' .. table.concat(doc_json(rcall('HGETALL', key)), ',') .. '}' }
