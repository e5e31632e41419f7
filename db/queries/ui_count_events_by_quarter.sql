-- Events per calendar quarter (UTC) that has begun by %(before)s, latest first: the periods the chat's
-- example questions name.
SELECT date_trunc('quarter', occurred_at AT TIME ZONE 'UTC')::date AS quarter_start, count(*) AS events
FROM risk_events
WHERE occurred_at < %(before)s
GROUP BY 1
ORDER BY 1 DESC
LIMIT %(limit)s
