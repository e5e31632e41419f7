-- Amount statistics per currency over the events {where} selects (compiled by assistant/filters.py).
SELECT ev.currency, count(*) AS events, sum(ev.amount) AS total,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ev.amount))::numeric, 2) AS median,
       min(ev.amount) AS min, max(ev.amount) AS max
FROM risk_events ev
WHERE {where} AND ev.amount IS NOT NULL
GROUP BY ev.currency
ORDER BY count(*) DESC, ev.currency
