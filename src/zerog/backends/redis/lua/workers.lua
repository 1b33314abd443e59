-- workers.lua: the registry entries seen within a maximum age (Queues.workers). A read.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (unused)
-- ARGV[3]  the maximum age, in seconds
--
-- Returns {'ok', entries (JSON texts)...}.

local ids = rcall('ZRANGEBYSCORE', P .. ':wseen', num(NOW - tonumber(ARGV[3])), '+inf')
local out = { 'ok' }
for i = 1, #ids, 500 do
  for _, text in ipairs(rcall('HMGET', P .. ':workers', unpack(ids, i, math.min(#ids, i + 499)))) do
    if text then
      out[#out + 1] = text
    end
  end
end
return out
