-- audit.lua: append an entry to the audit trail (Backend.append_audit), numbered in order.
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now ('' = the server's TIME)      ARGV[2]  history cap (0 = all)
-- ARGV[3]  the entry (JSON text of an object with at least one key)
--
-- Keys: '<root>:audit' (a list of entries, oldest first), '<root>:audit:seq' (a counter).
-- Returns {'ok', the entry's seq}.

local seq = rcall('INCR', P .. ':audit:seq')
rcall('RPUSH', P .. ':audit', '{"seq":' .. int(seq) .. ',' .. string.sub(ARGV[3], 2))
return { 'ok', seq }
