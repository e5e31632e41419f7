SELECT id, source, source_id, occurred_at, category, subcategory, severity, entity_id,
       entity_name, amount, currency, status, title, text, attributes, scope
FROM risk_events WHERE id = ANY(%(ids)s)
