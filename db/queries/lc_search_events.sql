-- Exact nearest neighbours among one source's events under the filters ({where}, compiled by
-- assistant/filters.py: allowlisted columns, bound values); score is cosine similarity.
SELECT ev.source_id, ev.text, ev.attributes, 1 - (em.embedding <=> %(query)s) AS score
FROM risk_events ev
JOIN event_embeddings em ON em.event_id = ev.id AND em.model = %(model)s
WHERE ev.source = %(source)s AND {where}
ORDER BY em.embedding <=> %(query)s, ev.id
LIMIT %(k)s
