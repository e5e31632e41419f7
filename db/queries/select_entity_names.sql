-- The stored entity names (companies) with their events: what the planner reads company mentions against.
SELECT value, events FROM field_values WHERE field = 'entity_name' ORDER BY value
