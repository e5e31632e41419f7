-- Stored values the planner may ground phrases in (low-cardinality typed columns).
SELECT 'category' AS field, category AS value, count(*) AS n FROM risk_events GROUP BY category
UNION ALL
SELECT 'subcategory', subcategory, count(*) FROM risk_events WHERE subcategory IS NOT NULL GROUP BY subcategory
