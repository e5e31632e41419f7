-- The first and last day of the events {where} selects (compiled by assistant/filters.py).
SELECT min(ev.occurred_at AT TIME ZONE 'UTC')::date AS first, max(ev.occurred_at AT TIME ZONE 'UTC')::date AS last
FROM risk_events ev
WHERE {where}
