-- add_stats.lua: merge statistics deltas into the stored per-queue, per-day sums
-- (Upkeep.add_stats, zerog.stats.merge).
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3..] one delta each (JSON): day (the day's start, whole seconds), queue, i (fields
--          and whole increments: counts, histogram buckets as '<timing>.h.<bucket>'), f
--          (fields and increments as decimal text: totals and sums of squares)
--
-- A queue-day's sums are the hash stats:<day>:<queue>; the sorted sets statkeys (all of
-- them) and stathist (those still holding histograms) order them by day for retention.
-- Returns {'ok'}.

for i = 3, #ARGV do
  local d = cjson.decode(ARGV[i])
  local key = P .. ':stats:' .. int(d.day) .. ':' .. d.queue
  for field, n in pairs(d.i) do
    rcall('HINCRBY', key, field, int(n))
  end
  for field, x in pairs(d.f) do
    rcall('HINCRBYFLOAT', key, field, x)
  end
  rcall('ZADD', P .. ':statkeys', int(d.day), key)
  rcall('ZADD', P .. ':stathist', int(d.day), key)
end
return { 'ok' }
