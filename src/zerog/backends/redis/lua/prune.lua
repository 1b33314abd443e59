-- prune.lua: delete up to ``limit`` finished jobs (complete, cancelled, expired; never failed
-- ones) past the retention, oldest first, with their history; drop statistics older than
-- their days and histograms older than theirs (Upkeep.prune).
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (unused)
-- ARGV[3]  jobs_seconds                      ARGV[4]  jobs_count
-- ARGV[5]  stats_days                        ARGV[6]  histogram_days
-- ARGV[7]  limit
--
-- Returns {'ok', how many jobs were deleted}.

local limit = tonumber(ARGV[7])
local older = rcall('ZCOUNT', K_DONE, '-inf', '(' .. num(NOW - tonumber(ARGV[3])))
local excess = rcall('ZCARD', K_DONE) - tonumber(ARGV[4])
local n = math.min(limit, math.max(older, excess))

local function delete(h)
  local uuid = string.sub(h, 13)
  local v = rcall('HMGET', jkey(uuid), 'state', 'queue', 'tags', 'tracked', 'recurrence', '_seq')
  rcall('ZREM', K_DONE, h)
  if not v[1] then
    return
  end
  local state, queue, seq = state_of(v[1]), dec(v[2]), tonumber(v[6])
  rcall('DEL', jkey(uuid), hkey(uuid), evkey(uuid), erkey(uuid), smkey(uuid))
  rcall('ZREM', K_ALL, uuid)
  rcall('ZREM', stkey(state), uuid)
  rcall('ZREM', qakey(queue), uuid)
  rcall('HINCRBY', K_COUNTS, queue .. '\n' .. state, -1)
  for _, t in ipairs(dec(v[3]) or {}) do
    tag(uuid, seq, t, -1)
  end
  if v[4] == 'true' then
    rcall('ZREM', K_TRACKED, uuid)
  end
  local rid = dec(v[5])
  if rid then
    rcall('ZREM', rjkey(rid), uuid)
  end
end

local deleted = 0
if n > 0 then
  for _, h in ipairs(rcall('ZRANGE', K_DONE, 0, n - 1)) do
    delete(h)
    deleted = deleted + 1
  end
end

local today = math.floor(NOW / 86400) * 86400
local K_STATKEYS, K_STATHIST = P .. ':statkeys', P .. ':stathist'
local old = '(' .. int(today - tonumber(ARGV[5]) * 86400)
for _, key in ipairs(rcall('ZRANGEBYSCORE', K_STATKEYS, '-inf', old, 'LIMIT', 0, 1000)) do
  rcall('DEL', key)
  rcall('ZREM', K_STATKEYS, key)
  rcall('ZREM', K_STATHIST, key)
end
old = '(' .. int(today - tonumber(ARGV[6]) * 86400)
for _, key in ipairs(rcall('ZRANGEBYSCORE', K_STATHIST, '-inf', old, 'LIMIT', 0, 1000)) do
  local doomed = {}
  for _, field in ipairs(rcall('HKEYS', key)) do
    if string.find(field, '.h.', 1, true) then
      doomed[#doomed + 1] = field
    end
  end
  if #doomed > 0 then
    rcall('HDEL', key, unpack(doomed))
  end
  rcall('ZREM', K_STATHIST, key)
end
return { 'ok', deleted }
