-- lib/cron.lua: the next time a cron line names, in UTC, as croniter computes it for the
-- lines it shares with Vixie cron: five fields (minute hour day-of-month month day-of-week),
-- each '*', '?', a number or a name (jan..dec, sun..sat; 7 is Sunday), a range a-b, a step
-- */n, a-b/n or a/n, and lists of these; @yearly, @annually, @monthly, @weekly, @daily,
-- @midnight, @hourly. When both day fields are restricted a day matching either runs (Vixie
-- cron's rule, croniter's default). Recurrences are spawned inside the claim script, so the
-- schedule must be computed in Lua; zerog refuses other lines when a recurrence is stored.

local CRON_ALIASES = {
  ['@yearly'] = '0 0 1 1 *', ['@annually'] = '0 0 1 1 *', ['@monthly'] = '0 0 1 * *',
  ['@weekly'] = '0 0 * * 0', ['@daily'] = '0 0 * * *', ['@midnight'] = '0 0 * * *',
  ['@hourly'] = '0 * * * *',
}
local CRON_NAMES = {
  { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, oct = 10,
    nov = 11, dec = 12 },
  { sun = 0, mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6 },
}
-- minute, hour, day of month, month, day of week: lowest and highest value, names.
local CRON_FIELDS = { { 0, 59 }, { 0, 23 }, { 1, 31 }, { 1, 12, CRON_NAMES[1] },
  { 0, 7, CRON_NAMES[2] } }

local function cron_value(text, field)
  local n = tonumber(text)
  if not n and field[3] then
    n = field[3][string.lower(text)]
  end
  if not n or n ~= math.floor(n) or n < field[1] or n > field[2] then
    error('zerog: cron value ' .. text .. ' is out of range')
  end
  return n
end

-- The set of values one field allows, and whether it was '*' (or '?'): unrestricted.
local function cron_field(text, field)
  local allowed = {}
  for item in string.gmatch(text, '[^,]+') do
    local range, step = string.match(item, '^([^/]+)/(%d+)$')
    range = range or item
    step = tonumber(step) or 1
    if step < 1 then
      error('zerog: cron step 0')
    end
    local low, high
    if range == '*' or range == '?' then
      low, high = field[1], field[2]
    else
      local a, b = string.match(range, '^([%w]+)%-([%w]+)$')
      if a then
        low, high = cron_value(a, field), cron_value(b, field)
      else
        low = cron_value(range, field)
        high = (step > 1 or string.find(item, '/')) and field[2] or low
      end
    end
    if low > high then
      error('zerog: cron range ' .. range .. ' runs backwards')
    end
    for v = low, high, step do
      allowed[v] = true
    end
  end
  return allowed, text == '*' or text == '?'
end

-- The five sets of a line, and whether each day field is unrestricted.
local function cron_parse(line)
  line = CRON_ALIASES[string.lower(line)] or line
  local parts = {}
  for part in string.gmatch(line, '%S+') do
    parts[#parts + 1] = part
  end
  if #parts ~= 5 then
    error('zerog: cron lines have five fields here')
  end
  local sets, stars = {}, {}
  for i = 1, 5 do
    sets[i], stars[i] = cron_field(parts[i], CRON_FIELDS[i])
  end
  if sets[5][7] then
    sets[5][0] = true
  end
  return sets, stars
end

local function floor_div(a, b)
  return math.floor(a / b)
end

-- Howard Hinnant's civil calendar algorithms: day number <-> (year, month, day).
local function civil_from_days(days)
  local z = days + 719468
  local era = floor_div(z, 146097)
  local doe = z - era * 146097
  local yoe = floor_div(doe - floor_div(doe, 1460) + floor_div(doe, 36524) - floor_div(doe, 146096), 365)
  local doy = doe - (365 * yoe + floor_div(yoe, 4) - floor_div(yoe, 100))
  local mp = floor_div(5 * doy + 2, 153)
  local d = doy - floor_div(153 * mp + 2, 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then
    y = y + 1
  end
  return y, m, d
end

local function days_from_civil(y, m, d)
  if m > 12 then
    y, m = y + 1, m - 12
  end
  if m <= 2 then
    y = y - 1
  end
  local era = floor_div(y, 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = floor_div(153 * mp + 2, 5) + d - 1
  local doe = yoe * 365 + floor_div(yoe, 4) - floor_div(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

-- The first minute strictly after ``after`` (seconds since the epoch, UTC) that ``line``
-- names.
local function cron_next(line, after)
  local sets, stars = cron_parse(line)
  local t = floor_div(after, 60) * 60 + 60
  for _ = 1, 200000 do
    local days = floor_div(t, 86400)
    local y, m, d = civil_from_days(days)
    local secs = t - days * 86400
    local h, mi = floor_div(secs, 3600), floor_div(secs % 3600, 60)
    local dow = (days + 4) % 7
    local day_ok
    if stars[3] or stars[5] then
      day_ok = sets[3][d] and sets[5][dow]
    else
      day_ok = sets[3][d] or sets[5][dow]
    end
    if not sets[4][m] then
      t = days_from_civil(y, m + 1, 1) * 86400
    elseif not day_ok then
      t = (days + 1) * 86400
    elseif not sets[2][h] then
      t = days * 86400 + (h + 1) * 3600
    elseif not sets[1][mi] then
      t = t + 60
    else
      return t
    end
  end
  error('zerog: the cron line ' .. line .. ' names no time in the next years')
end
