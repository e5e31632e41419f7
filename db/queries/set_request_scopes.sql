-- The request's scopes for this transaction ('*': every scope; '': none), read by the row-level
-- security policies (migrations/0007_row_level_security.sql). Bound, never spliced.
SELECT set_config('risk.scopes', %(scopes)s, true)
