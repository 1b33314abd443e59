-- unregister.lua: remove a worker's registry entry; idempotent (Queues.unregister_worker).
-- needs: core
--
-- KEYS[1]  the store's root '{<prefix>}'
-- ARGV[1]  now (unused)                      ARGV[2]  history cap (unused)
-- ARGV[3]  the worker's id
--
-- Returns {'ok'}.

rcall('HDEL', P .. ':workers', ARGV[3])
rcall('ZREM', P .. ':wseen', ARGV[3])
return { 'ok' }
