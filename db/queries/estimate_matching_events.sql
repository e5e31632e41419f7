-- The planner's estimate of how many events the filters match (its statistics, no scan): enough to scale an
-- IVFFlat search's probes by the filters' share. {where} is compiled by assistant/filters.py.
EXPLAIN (FORMAT JSON) SELECT 1 FROM risk_events ev WHERE {where}
