-- lib/core.lua: what every script shares (the loader puts the libraries a script needs in
-- front of it).
--
-- KEYS[1]  the store's root: '{<prefix>}'. Every key of the store starts with it, so all of
--          them hash to one Redis Cluster slot (the braces are the hash tag).
-- ARGV[1]  now, in seconds since the epoch ('' reads the server's TIME: the only clock in
--          production; tests pass a fake clock's reading)
-- ARGV[2]  the history cap: entries kept per job (0 keeps all)
-- A script's own arguments start at ARGV[3].
--
-- A document (a job, a recurrence) is a hash whose fields are its keys, each holding that
-- key's JSON text as the Python side wrote it. Scripts never re-encode a document with
-- cjson: Redis's cjson writes numbers with 14 significant digits (a time would lose its
-- milliseconds) and an empty list as {}. They write numbers with num()/int() below, strings
-- with str(), and lists of strings with strs().

local WAKE_CAP = 64 -- tokens a queue's wake list holds at most: idle processes woken at once.

-- Set for each call by begin() (at the end of this file), from the call's KEYS and ARGV:
-- the same code runs as a script (EVALSHA: the libraries, begin(KEYS, ARGV), the script's
-- body) and as a function of a library loaded once (FCALL; see _scripts.py).
local P, NOW, NOWT, HCAP
local K_RUNNING, K_TTL, K_DONE, K_ALL, K_SEQ, K_COUNTS, K_TAGS, K_TRACKED, K_UNIQ
local K_DEBOUNCE, K_PAUSED, K_LIMITS, K_LRUN, K_RECURS

local rcall -- redis.call, set by begin(): a library being loaded has no redis.call yet.
local NULL -- cjson.null, set by begin() likewise.

-- --- JSON texts ---------------------------------------------------------------------------

-- A float's JSON text: the shortest that reads back as the same double, with a '.0' when
-- whole (so Python reads a float, as it wrote one).
local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then
    error('zerog: a time or number is not finite')
  end
  if x == math.floor(x) and math.abs(x) < 1e15 then
    return string.format('%.1f', x)
  end
  local s = string.format('%.15g', x)
  if tonumber(s) ~= x then
    s = string.format('%.16g', x)
    if tonumber(s) ~= x then
      s = string.format('%.17g', x)
    end
  end
  return s
end

local function int(x)
  return string.format('%d', x)
end

-- A string's JSON text (null for nil); plain ones (most: states, events, ids) without cjson.
local function str(s)
  if s == nil then
    return 'null'
  end
  if not string.find(s, '[%c"\\\128-\255]') then
    return '"' .. s .. '"'
  end
  return cjson.encode(s)
end

-- A JSON text to a Lua value; JSON null (and a missing field) to nil.
local function dec(text)
  if not text or text == 'null' then
    return nil
  end
  local value = cjson.decode(text)
  if value == NULL then
    return nil
  end
  return value
end

-- A list of strings as JSON text ([] when empty, where cjson would write {}).
local function strs(list)
  if #list == 0 then
    return '[]'
  end
  local out = {}
  for i, s in ipairs(list) do
    out[i] = cjson.encode(s)
  end
  return '[' .. table.concat(out, ',') .. ']'
end

-- A map of strings to strings as JSON text.
local function strmap(map)
  local out = {}
  for k, v in pairs(map) do
    out[#out + 1] = cjson.encode(k) .. ':' .. cjson.encode(v)
  end
  table.sort(out)
  return '{' .. table.concat(out, ',') .. '}'
end

-- A state's JSON text is '"<state>"'; states are plain words.
local function state_of(text)
  return string.sub(text, 2, -2)
end

local function without(list, item)
  local out = {}
  for _, v in ipairs(list) do
    if v ~= item then
      out[#out + 1] = v
    end
  end
  return out
end

local function contains(list, item)
  for _, v in ipairs(list) do
    if v == item then
      return true
    end
  end
  return false
end

-- --- keys -----------------------------------------------------------------------------------
-- The variable part (a uuid, a queue, a tag) always comes last, so no two keys collide.

local function jkey(uuid) return P .. ':j:' .. uuid end -- the job's hash
local function hkey(uuid) return P .. ':h:' .. uuid end -- its history (a list)
local function evkey(uuid) return P .. ':ev:' .. uuid end -- its events
local function erkey(uuid) return P .. ':er:' .. uuid end -- its errors
local function smkey(uuid) return P .. ':sm:' .. uuid end -- its progress samples
local function readykey(q) return P .. ':ready:' .. q end -- zset: priority, then put order
local function schedkey(q) return P .. ':sched:' .. q end -- zset: due time
local function wakekey(q) return P .. ':wake:' .. q end -- list of wake-up tokens
local function failedkey(q) return P .. ':failed:' .. q end -- zset: time of failure
local function stkey(state) return P .. ':st:' .. state end -- zset: put order, per state
local function qakey(q) return P .. ':qa:' .. q end -- zset: put order, per queue
local function tagkey(tag) return P .. ':tag:' .. tag end -- zset: put order, per tag
local function rjkey(rid) return P .. ':rj:' .. rid end -- zset: jobs a recurrence spawned
local function rkey(rid) return P .. ':r:' .. rid end -- a recurrence's hash
local function rqkey(q) return P .. ':rq:' .. q end -- zset: a queue's recurrences by due time
-- K_RUNNING  zset: lease expiry               K_TTL      zset: TTL deadline of ready jobs
-- K_DONE     zset: finish time of complete, cancelled, expired jobs
-- K_ALL      zset: put order                  K_SEQ      counter: put order
-- K_COUNTS   hash: '<queue>\n<state>' -> jobs K_TAGS     zset: tag -> minus its jobs
-- K_TRACKED  zset: put order                  K_UNIQ     hash: unique key -> its holder
-- K_DEBOUNCE hash: debounce key -> its plan   K_PAUSED   set of paused queues
-- K_LIMITS   hash: limit -> maximum           K_LRUN     hash: limit -> its running jobs
-- K_RECURS   zset: recurrences in creation order

-- A job's handle in the ordered sets: its put order (12 hex digits), then its uuid, so that
-- equal scores keep put order (Redis orders equal scores by member).
local function handle(seq, uuid)
  return string.format('%012x', seq) .. uuid
end

-- --- history and wake-ups -------------------------------------------------------------------

local function log(uuid, event, state, worker, detail)
  local key = hkey(uuid)
  local length = rcall('RPUSH', key, '{"at":' .. NOWT .. ',"event":' .. str(event)
    .. ',"state":"' .. state .. '","worker":' .. str(worker) .. ',"detail":' .. str(detail) .. '}')
  if HCAP > 0 and length > HCAP then
    rcall('LTRIM', key, -HCAP, -1)
  end
end

-- Tell idle processes (blocked on the queue's wake list) that a job may be ready there.
local woken
local function wake(q)
  local n = (woken[q] or 0) + 1
  woken[q] = n
  if n <= WAKE_CAP then
    local key = wakekey(q)
    if rcall('LPUSH', key, '1') > WAKE_CAP then -- the length: trimmed only when over the cap.
      rcall('LTRIM', key, 0, WAKE_CAP - 1)
    end
  end
end

-- Counters (jobs per queue and state, running jobs per limit) change many times in one
-- script (a batch of claims): the changes are summed here and written once, by flush(),
-- which every script that moves jobs calls before it returns.
local bumped
local function bump(hash, field, delta)
  local fields = bumped[hash]
  if not fields then
    fields = {}
    bumped[hash] = fields
  end
  fields[field] = (fields[field] or 0) + delta
end

-- A counter's value now: what is stored plus what this script has not written yet.
local function counter(hash, field)
  local pending = bumped[hash] and bumped[hash][field] or 0
  return (tonumber(rcall('HGET', hash, field)) or 0) + pending
end

local function flush()
  for hash, fields in pairs(bumped) do
    for field, delta in pairs(fields) do
      if delta ~= 0 then
        rcall('HINCRBY', hash, field, delta)
      end
    end
  end
  bumped = {}
end

-- Push the elements of a Lua list onto a Redis list, 500 at a time (never a huge unpack).
local function rpush_all(key, items)
  local i = 1
  while i <= #items do
    local last = math.min(#items, i + 499)
    rcall('RPUSH', key, unpack(items, i, last))
    i = last + 1
  end
end

-- A reply that says what went wrong; the Python side raises the matching error.
local function refuse(kind, ...)
  return { 'error', kind, ... }
end

-- --- writes sent twice ----------------------------------------------------------------------
-- A client that lost its connection before the reply sends the same write again, with the
-- same nonce; the reply of the first is kept a minute under the nonce, and the second gets
-- it instead of doing the write twice (a put stored once, a settlement not reported lost).

local function replayed(nonce)
  if nonce == '' then
    return nil
  end
  return rcall('GET', P .. ':nonce:' .. nonce)
end

local function remember(nonce, text)
  if nonce ~= '' then
    rcall('SET', P .. ':nonce:' .. nonce, text, 'EX', 60)
  end
end

local GLOBAL_KEYS = { 'running', 'ttl', 'done', 'all', 'seq', 'counts', 'tags', 'tracked',
  'uniq', 'debounce', 'paused', 'limits', 'lrun', 'recurs' }
local KEYS_OF = {}

-- What one call sets before its body runs (see the top of this file).
local function begin(keys, argv)
  rcall, NULL = redis.call, cjson.null
  P = keys[1]
  if argv[1] ~= '' then
    NOW = tonumber(argv[1])
  else
    local t = rcall('TIME')
    NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  NOWT = num(NOW)
  HCAP = tonumber(argv[2]) or 0
  local k = KEYS_OF[P]
  if not k then -- a library's state outlives a call: each root's names are made once.
    k = {}
    for i, name in ipairs(GLOBAL_KEYS) do
      k[i] = P .. ':' .. name
    end
    KEYS_OF[P] = k
  end
  K_RUNNING, K_TTL, K_DONE, K_ALL, K_SEQ, K_COUNTS, K_TAGS = k[1], k[2], k[3], k[4], k[5], k[6], k[7]
  K_TRACKED, K_UNIQ, K_DEBOUNCE, K_PAUSED, K_LIMITS, K_LRUN = k[8], k[9], k[10], k[11], k[12], k[13]
  K_RECURS = k[14]
  woken, bumped = {}, {}
end
