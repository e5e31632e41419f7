-- Counts over the retrieved events, by category, severity, month and entity.
SELECT dimension, value, count(*) AS n, array_agg(id ORDER BY occurred_at, id) AS ids
FROM (
    SELECT id, occurred_at, 'category' AS dimension, category AS value FROM risk_events WHERE id = ANY(%(ids)s)
    UNION ALL
    SELECT id, occurred_at, 'severity', severity FROM risk_events WHERE id = ANY(%(ids)s) AND severity IS NOT NULL
    UNION ALL
    SELECT id, occurred_at, 'month', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')
    FROM risk_events WHERE id = ANY(%(ids)s)
    UNION ALL
    SELECT id, occurred_at, 'entity', coalesce(entity_id || ' ' || coalesce(entity_name, ''), entity_name)
    FROM risk_events WHERE id = ANY(%(ids)s) AND coalesce(entity_id, entity_name) IS NOT NULL
) facts
GROUP BY dimension, value
ORDER BY dimension, n DESC, value
