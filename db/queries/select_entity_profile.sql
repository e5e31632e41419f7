-- One entity's events counted by category, severity and month (UTC), for the agent's entity_profile tool.
SELECT dimension, value, count(*) AS n
FROM (
    SELECT 'category' AS dimension, category AS value FROM risk_events WHERE entity_id = %(entity_id)s
    UNION ALL
    SELECT 'severity', severity FROM risk_events WHERE entity_id = %(entity_id)s AND severity IS NOT NULL
    UNION ALL
    SELECT 'month', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') FROM risk_events WHERE entity_id = %(entity_id)s
) facts
GROUP BY dimension, value
ORDER BY dimension, n DESC, value
