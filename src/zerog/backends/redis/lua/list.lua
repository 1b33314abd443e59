-- list.lua: a page of jobs, newest first, matching a query (Backend.list). A read.
-- needs: core jobs
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the query (JSON): state, queue, type, tag, tracked, recurrence, worker (each
--          left out when not asked), limit, cursor (the put order to continue below)
--
-- The smallest index that the query names is walked (a tag's, a recurrence's, the tracked
-- jobs', a state's, a queue's, else every job's), the other filters checked on each job.
-- At most SCAN jobs are looked at per page: a page may then hold fewer than ``limit`` jobs,
-- and its cursor goes on from there.
-- Returns {'ok', the next cursor or '', records (JSON texts)...}.

local SCAN = 20000
local q = cjson.decode(ARGV[3])
local candidates = {}
if q.tag then candidates[#candidates + 1] = tagkey(q.tag) end
if q.recurrence then candidates[#candidates + 1] = rjkey(q.recurrence) end
if q.tracked == true then candidates[#candidates + 1] = K_TRACKED end
if q.state and q.state ~= 'running' then candidates[#candidates + 1] = stkey(q.state) end
if q.queue then candidates[#candidates + 1] = qakey(q.queue) end
local index, size = K_ALL, nil
if q.state == 'running' then -- running jobs have no state index: the running set is one.
  index, size = 'running', rcall('ZCARD', K_RUNNING)
end
for _, key in ipairs(candidates) do
  local n = rcall('ZCARD', key)
  if not size or n < size then
    index, size = key, n
  end
end

local FIELDS = { 'state', 'queue', 'type', 'tracked', 'recurrence', 'worker', 'tags' }
local function matches(uuid)
  local v = rcall('HMGET', jkey(uuid), unpack(FIELDS))
  if not v[1] then
    return false
  end
  if (q.state and state_of(v[1]) ~= q.state) or (q.queue and dec(v[2]) ~= q.queue)
    or (q.type and dec(v[3]) ~= q.type) or (q.recurrence and dec(v[5]) ~= q.recurrence)
    or (q.worker and dec(v[6]) ~= q.worker) then
    return false
  end
  if q.tracked ~= nil and (dec(v[4]) == true) ~= q.tracked then
    return false
  end
  return not q.tag or contains(dec(v[7]) or {}, q.tag)
end

-- The running jobs, newest first, below the cursor: from the running set (by lease expiry,
-- each member its put order in hex then its uuid), as the other indexes give them.
local function running_below(cursor)
  local entries = {}
  for _, h in ipairs(rcall('ZRANGE', K_RUNNING, 0, -1)) do
    local seq = tonumber(string.sub(h, 1, 12), 16)
    if not cursor or seq < cursor then
      entries[#entries + 1] = { seq, string.sub(h, 13) }
    end
  end
  table.sort(entries, function(a, b) return a[1] > b[1] end)
  local flat = {}
  for _, e in ipairs(entries) do
    flat[#flat + 1] = e[2]
    flat[#flat + 1] = tostring(e[1])
  end
  return flat
end

local found = {}
local below = q.cursor and ('(' .. q.cursor) or '+inf'
local scanned, last, cursor = 0, nil, ''
local running = index == 'running' and running_below(q.cursor) or nil
while #found <= q.limit do
  local chunk
  if running then
    chunk, running = running, {}
  else
    chunk = rcall('ZREVRANGEBYSCORE', index, below, '-inf', 'WITHSCORES', 'LIMIT', 0, 200)
  end
  if #chunk == 0 then
    break
  end
  for i = 1, #chunk, 2 do
    scanned = scanned + 1
    last = chunk[i + 1]
    if matches(chunk[i]) then
      found[#found + 1] = { chunk[i], last }
      if #found > q.limit then
        break
      end
    end
  end
  below = '(' .. last
  if scanned >= SCAN and #found <= q.limit then
    cursor = last
    break
  end
end
local out = { 'ok', cursor }
for i, entry in ipairs(found) do
  if i > q.limit then
    out[2] = found[q.limit][2]
    break
  end
  out[#out + 1] = record_json(entry[1], false)
end
return out
