-- What "like X" may name: an event by its internal id (digits) or its source id, or an entity by its id
-- (case-insensitive); every reading that is stored, so that the planner can say which one it took.
SELECT 'source_id' AS kind, id::text AS event_id, source_id AS value, 1 AS events
FROM risk_events WHERE source_id = ANY(%(variants)s)
UNION ALL
SELECT 'event_id', id::text, id::text, 1 FROM risk_events WHERE id = %(id)s
UNION ALL
SELECT 'entity_id', NULL, entity_id, count(*) FROM risk_events WHERE entity_id = ANY(%(variants)s) GROUP BY entity_id
LIMIT 20
