-- Stored values the planner may ground phrases in (low-cardinality typed columns), from the registry.
SELECT field, value, events AS n FROM field_values WHERE field IN ('category', 'subcategory') ORDER BY field, value
