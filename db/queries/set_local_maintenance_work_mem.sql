-- Memory for building an index, for the rest of the current transaction only.
SELECT set_config('maintenance_work_mem', %(value)s, true);
