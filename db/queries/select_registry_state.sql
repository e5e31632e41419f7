SELECT EXISTS (SELECT 1 FROM field_values) AS filled, EXISTS (SELECT 1 FROM risk_events) AS has_events
