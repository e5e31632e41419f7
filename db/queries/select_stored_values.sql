-- The registry's stored values of the given fields: what the planner grounds phrases in and what a
-- filter proposed by the LLM may name.
SELECT DISTINCT field, value FROM field_values WHERE field = ANY(%(fields)s) ORDER BY field, value
