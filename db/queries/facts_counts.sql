-- Counts over the events {where} selects, by category, subcategory, severity, month and entity:
-- the %(limit)s most common values of each dimension (every month), with up to %(ids_per_value)s
-- event ids per value (0 for the whole matching set, whose events are not all evidence).
-- {where} is compiled by assistant/filters.py: allowlisted columns, bound values.
WITH scoped AS (
    SELECT ev.id, ev.category, ev.subcategory, ev.severity,
           to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
           coalesce(ev.entity_id || coalesce(' ' || ev.entity_name, ''), ev.entity_name) AS entity
    FROM risk_events ev
    WHERE {where}
),
grouped AS (
    SELECT CASE WHEN grouping(category) = 0 THEN 'category'
                WHEN grouping(subcategory) = 0 THEN 'subcategory'
                WHEN grouping(severity) = 0 THEN 'severity'
                WHEN grouping(month) = 0 THEN 'month'
                ELSE 'entity' END AS dimension,
           coalesce(category, subcategory, severity, month, entity) AS value,
           count(*) AS n,
           (array_agg(id ORDER BY id))[1:%(ids_per_value)s] AS ids
    FROM scoped
    GROUP BY GROUPING SETS ((category), (subcategory), (severity), (month), (entity))
),
ranked AS (
    SELECT dimension, value, n, ids, row_number() OVER (PARTITION BY dimension ORDER BY n DESC, value) AS position
    FROM grouped
    WHERE value IS NOT NULL
)
SELECT dimension, value, n, ids
FROM ranked
WHERE position <= %(limit)s OR dimension = 'month'
ORDER BY dimension, n DESC, value
