-- For a batch of source ids: the stored content hash and whether the current model has a
-- vector for exactly that content.
SELECT ev.source_id,
       ev.content_hash,
       (em.content_hash IS NOT DISTINCT FROM ev.content_hash) AS embedded
FROM risk_events ev
LEFT JOIN event_embeddings em ON em.event_id = ev.id AND em.model = %(model)s
WHERE ev.source = %(source)s AND ev.source_id = ANY(%(source_ids)s)
