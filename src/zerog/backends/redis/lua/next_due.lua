-- next_due.lua: when the first scheduled job (or recurrence) of some queues is due
-- (Backend.next_due). A read.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now                               ARGV[2]  history cap (unused)
-- ARGV[3..] the queues
--
-- A paused queue is left out: its due jobs wait, claimed by nobody, until it restarts. A full
-- rate window counts too: it frees when its ``maximum``-th latest start is ``per`` seconds old.
-- Returns {'ok', the earliest due time as text, or ''}.

local first
for i = 3, #ARGV do
  local keys = rcall('SISMEMBER', K_PAUSED, ARGV[i]) == 1 and {} or { schedkey(ARGV[i]), rqkey(ARGV[i]) }
  for _, key in ipairs(keys) do
    local found = rcall('ZRANGE', key, 0, 0, 'WITHSCORES')
    if found[2] and (not first or tonumber(found[2]) < tonumber(first)) then
      first = found[2]
    end
  end
end
local rates = rcall('HGETALL', P .. ':rates')
for i = 1, #rates, 2 do
  local maximum, per = string.match(rates[i + 1], '^(%S+) (%S+)$')
  maximum, per = tonumber(maximum), tonumber(per)
  local key = P .. ':rs:' .. rates[i]
  if maximum > 0 and rcall('ZCOUNT', key, '(' .. num(NOW - per), '+inf') >= maximum then
    local nth = rcall('ZREVRANGEBYSCORE', key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', maximum - 1, 1)
    local free = nth[2] and tonumber(nth[2]) + per
    if free and (not first or free < tonumber(first)) then
      first = num(free)
    end
  end
end
return { 'ok', first or '' }
