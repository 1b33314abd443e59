-- kick.lua: retry up to ``limit`` failed jobs of a queue, oldest failure first
-- (Backend.kick; beanstalkd's kick). A failed job whose unique key another job holds now
-- stays failed, and the next one is taken.
-- needs: core jobs put operate
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the queue                         ARGV[4]  limit
-- ARGV[5]  the moves of 'retry' (JSON, see lib/operate.lua)
--
-- Returns {'ok', how many were retried}.

local limit = tonumber(ARGV[4])
local moves = cjson.decode(ARGV[5])
local kicked, skipped = 0, 0
while kicked < limit do
  local handles = rcall('ZRANGE', failedkey(ARGV[3]), skipped, skipped + 99)
  if #handles == 0 then
    break
  end
  for _, h in ipairs(handles) do
    local j = load(string.sub(h, 13))
    if j and operate(j, 'retry', moves, nil) then
      kicked = kicked + 1
      if kicked >= limit then
        break
      end
    elseif j then
      skipped = skipped + 1
    else
      rcall('ZREM', failedkey(ARGV[3]), h)
    end
  end
end
flush()
return { 'ok', kicked }
