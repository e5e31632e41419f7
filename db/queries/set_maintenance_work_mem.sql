-- Memory for building an index, for the rest of this (autocommit) session: CREATE INDEX CONCURRENTLY runs
-- outside any transaction, so the setting cannot be local to one.
SELECT set_config('maintenance_work_mem', %(value)s, false)
