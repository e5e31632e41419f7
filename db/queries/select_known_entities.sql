SELECT DISTINCT entity_id FROM risk_events WHERE entity_id = ANY(%(ids)s)
