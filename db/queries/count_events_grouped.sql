-- {where} is compiled by assistant/filters.py. The group_by parameter is checked against an allowlist in
-- assistant/agent.py and bound as a value (the CASE below picks the column): never spliced in.
SELECT value, count(*) AS n
FROM (
    SELECT CASE %(group_by)s::text
        WHEN 'category' THEN ev.category
        WHEN 'subcategory' THEN ev.subcategory
        WHEN 'severity' THEN ev.severity
        WHEN 'status' THEN ev.status
        WHEN 'entity_id' THEN ev.entity_id
        WHEN 'month' THEN to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')
    END AS value
    FROM risk_events ev
    WHERE {where}
) grouped
GROUP BY value
ORDER BY n DESC, value NULLS LAST
LIMIT %(limit)s
