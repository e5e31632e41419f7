-- The stored entity names (companies) with their events: what the planner reads company mentions against.
-- A name stored in several of the analyst's scopes counts the events of each.
SELECT value, sum(events)::integer AS events FROM field_values WHERE field = 'entity_name'
GROUP BY value ORDER BY value
