-- Memory for the sorts and hashes of one search, for the rest of its transaction only.
SELECT set_config('work_mem', %(work_mem)s, true)
