"""Redis: what the conformance suite cannot show (Lua atomicity across processes, scripts
reloaded, a server refused or restarted, wake-ups, bulk rescue)."""
