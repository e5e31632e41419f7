-- The most common category / subcategory pairs in a period [start, end), with how many of their events are
-- high or critical: what the chat's example questions ask about.
SELECT category, subcategory, count(*) AS events,
       count(*) FILTER (WHERE severity IN ('high', 'critical')) AS severe
FROM risk_events
WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
GROUP BY category, subcategory
ORDER BY events DESC, category, subcategory NULLS LAST
LIMIT %(limit)s
