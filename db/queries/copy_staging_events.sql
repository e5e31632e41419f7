COPY staging_events (
    source, source_id, occurred_at, category, subcategory, severity, entity_id, entity_name,
    amount, currency, status, title, text, attributes, content_hash, scope
) FROM STDIN
