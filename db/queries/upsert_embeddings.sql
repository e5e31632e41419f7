INSERT INTO event_embeddings AS em (event_id, model, content_hash, embedding)
SELECT ev.id, %(model)s, ev.content_hash, st.embedding
FROM staging_embeddings st
JOIN risk_events ev ON ev.source = %(source)s AND ev.source_id = st.source_id
ON CONFLICT (event_id, model) DO UPDATE SET
    content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding, created_at = now()
