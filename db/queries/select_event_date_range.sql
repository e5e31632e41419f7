-- The first and last day any stored event occurred: what an empty answer over a date range reports.
SELECT min(occurred_at)::date AS first, max(occurred_at)::date AS last FROM risk_events
