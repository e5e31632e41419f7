-- Drop staged events refused after staging (select_staged_too_many_lexemes), before they are upserted.
DELETE FROM staging_events WHERE source_id = ANY(%(source_ids)s)
