-- Every scope, for the rest of this session: the index builder counts all of a model's vectors, and
-- event_embeddings' row-level security binds its owner too (FORCE; migrations/0007_row_level_security.sql).
SELECT set_config('risk.scopes', '*', false)
