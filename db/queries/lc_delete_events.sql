-- Delete one source's events by source id; their vectors go with them (ON DELETE CASCADE).
DELETE FROM risk_events
WHERE source = %(source)s AND source_id = ANY(%(ids)s)
