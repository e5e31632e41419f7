-- Counts over the events {where} selects, by category, subcategory, severity, month and entity, and by
-- month and category together (values "YYYY-MM category": the chart of events over time): the %(limit)s
-- most common values of each dimension (every month and month-category pair), with up to
-- %(ids_per_value)s event ids per value (0 for the whole matching set, whose events are not all evidence).
-- {where} is compiled by assistant/filters.py: allowlisted columns, bound values.
WITH scoped AS (
    SELECT ev.id, ev.category, ev.subcategory, ev.severity,
           to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
           coalesce(ev.entity_id || coalesce(' ' || ev.entity_name, ''), ev.entity_name) AS entity
    FROM risk_events ev
    WHERE {where}
),
grouped AS (
    SELECT CASE WHEN grouping(month, category) = 0 THEN 'month_category'
                WHEN grouping(category) = 0 THEN 'category'
                WHEN grouping(subcategory) = 0 THEN 'subcategory'
                WHEN grouping(severity) = 0 THEN 'severity'
                WHEN grouping(month) = 0 THEN 'month'
                ELSE 'entity' END AS dimension,
           CASE WHEN grouping(month, category) = 0 THEN month || ' ' || category
                ELSE coalesce(category, subcategory, severity, month, entity) END AS value,
           count(*) AS n,
           (array_agg(id ORDER BY id))[1:%(ids_per_value)s] AS ids
    FROM scoped
    GROUP BY GROUPING SETS ((category), (subcategory), (severity), (month), (entity), (month, category))
),
ranked AS (
    SELECT dimension, value, n, ids, row_number() OVER (PARTITION BY dimension ORDER BY n DESC, value) AS position
    FROM grouped
    WHERE value IS NOT NULL
)
SELECT dimension, value, n, ids
FROM ranked
WHERE position <= %(limit)s OR dimension IN ('month', 'month_category')
ORDER BY dimension, n DESC, value
