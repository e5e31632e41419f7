-- One index build per model at a time, across processes: a session lock, released when the builder's
-- connection closes.
SELECT pg_try_advisory_lock(hashtextextended('risk-assistant embedding index ' || %(model)s, 0))
