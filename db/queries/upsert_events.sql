-- New rows are inserted; rows whose content changed are updated in place (their id, and so
-- every citation of them, stays). Unchanged rows are not touched. xmax = 0 marks an insert.
INSERT INTO risk_events AS ev (
    source, source_id, occurred_at, category, subcategory, severity, entity_id, entity_name,
    amount, currency, status, title, text, attributes, content_hash, scope
)
SELECT source, source_id, occurred_at, category, subcategory, severity, entity_id, entity_name,
       amount, currency, status, title, text, attributes, content_hash, scope
FROM staging_events
ON CONFLICT (source, source_id) DO UPDATE SET
    occurred_at = EXCLUDED.occurred_at, category = EXCLUDED.category,
    subcategory = EXCLUDED.subcategory, severity = EXCLUDED.severity,
    entity_id = EXCLUDED.entity_id, entity_name = EXCLUDED.entity_name,
    amount = EXCLUDED.amount, currency = EXCLUDED.currency, status = EXCLUDED.status,
    title = EXCLUDED.title, text = EXCLUDED.text, attributes = EXCLUDED.attributes,
    content_hash = EXCLUDED.content_hash, scope = EXCLUDED.scope, updated_at = now()
WHERE ev.content_hash IS DISTINCT FROM EXCLUDED.content_hash
RETURNING (xmax = 0) AS inserted
