-- Events and amount totals per currency over the events {where} selects (compiled by
-- assistant/filters.py): one period of a trend.
SELECT ev.currency, count(*) AS events, sum(ev.amount) AS total
FROM risk_events ev
WHERE {where}
GROUP BY ev.currency
ORDER BY ev.currency NULLS FIRST
