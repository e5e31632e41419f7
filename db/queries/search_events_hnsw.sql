-- Approximate nearest neighbours from the model's HNSW index, scanning on (pgvector 0.8
-- iterative scan) until enough rows pass the filters; then re-sorted by exact distance.
SELECT id, score FROM (
    SELECT ev.id,
           em.embedding::vector({dimension}) <=> %(query)s::vector({dimension}) AS distance,
           1 - (em.embedding::vector({dimension}) <=> %(query)s::vector({dimension})) AS score
    FROM event_embeddings em
    JOIN risk_events ev ON ev.id = em.event_id
    WHERE em.model = {model} AND {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY em.embedding::vector({dimension}) <=> %(query)s::vector({dimension})
    LIMIT %(k)s
) hits
ORDER BY distance, id
