-- register.lua: insert or refresh a worker's registry entry, stamped with the time it was
-- seen; entries unseen for too long are deleted (Queues.register_worker).
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (unused)
-- ARGV[3]  the worker's id                   ARGV[4]  its entry (a JSON object text)
-- ARGV[5]  seconds after which an entry unseen is deleted
--
-- Returns {'ok'}.

local K_WORKERS, K_SEEN = P .. ':workers', P .. ':wseen'
local entry = ARGV[4]
local stamp = '"last_seen":' .. NOWT .. '}'
if entry == '{}' then
  entry = '{' .. stamp
else
  entry = string.sub(entry, 1, -2) .. ',' .. stamp
end
rcall('HSET', K_WORKERS, ARGV[3], entry)
rcall('ZADD', K_SEEN, NOWT, ARGV[3])
local stale = rcall('ZRANGEBYSCORE', K_SEEN, '-inf', '(' .. num(NOW - tonumber(ARGV[5])), 'LIMIT',
  0, 100)
for _, id in ipairs(stale) do
  rcall('HDEL', K_WORKERS, id)
  rcall('ZREM', K_SEEN, id)
end
return { 'ok' }
