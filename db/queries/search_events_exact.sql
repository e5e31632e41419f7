-- Exact nearest neighbours under the filters. The untyped `embedding <=> query` expression is
-- not the one the IVFFlat index covers (a halfvec cast), so this scans the filtered rows: exact, whatever k.
SELECT ev.id, 1 - (em.embedding <=> %(query)s) AS score
FROM risk_events ev
JOIN event_embeddings em ON em.event_id = ev.id AND em.model = %(model)s
WHERE {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
ORDER BY em.embedding <=> %(query)s, ev.id
LIMIT %(k)s
