-- Approximate nearest neighbours from the model's IVFFlat index over halfvec (pgvector 0.8 iterative
-- scan: more lists are probed while too few rows pass the filters), %(candidates)s of them, re-ranked by
-- the exact float distance so that the half-precision copies decide nothing but which rows are candidates.
-- {where} is compiled by assistant/filters.py; {dimension} and {model} are literals (assistant/retrieve.py)
-- so that the planner can match the partial index.
SELECT id, 1 - distance AS score FROM (
    SELECT ev.id, em.embedding <=> %(query)s AS distance
    FROM event_embeddings em
    JOIN risk_events ev ON ev.id = em.event_id
    WHERE em.model = {model} AND {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY em.embedding::halfvec({dimension}) <=> %(query)s::halfvec({dimension})
    LIMIT %(candidates)s
) candidates
ORDER BY distance, id
LIMIT %(k)s
