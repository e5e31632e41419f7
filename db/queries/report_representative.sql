-- The retrieved events closest to their own centroid: the most typical of the set.
WITH centroid AS (
    SELECT avg(embedding) AS v FROM event_embeddings
    WHERE model = %(model)s AND event_id = ANY(%(ids)s)
)
SELECT em.event_id AS id
FROM event_embeddings em, centroid
WHERE em.model = %(model)s AND em.event_id = ANY(%(ids)s)
ORDER BY em.embedding <=> centroid.v, em.event_id
LIMIT %(limit)s
