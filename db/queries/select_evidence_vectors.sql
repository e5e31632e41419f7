-- The evidence events' vectors under one model; the caller puts them back in the evidence's order.
SELECT em.event_id, em.embedding
FROM event_embeddings em
WHERE em.event_id = ANY(%(ids)s) AND em.model = %(model)s
