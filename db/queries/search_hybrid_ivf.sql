-- Hybrid search under the filters, approximate: the top N (candidates) events from the model's IVFFlat
-- index (pgvector 0.8 iterative scan, re-ranked by exact distance, as in search_events_ivf.sql) and
-- the top N by BM25 (exact, whatever the vector side: as in search_events_keyword.sql),
-- fused by reciprocal rank fusion:
-- score = vector_weight / (rrf_k + vector rank) + keyword_weight / (rrf_k + keyword rank),
-- a side that did not rank an event adding nothing. Ties share a rank. {where} is compiled by
-- assistant/filters.py; {dimension} and {model} are literals composed by assistant/retrieve.py.
WITH vector_candidates AS (
    SELECT ev.id, em.embedding <=> %(query)s AS distance
    FROM event_embeddings em
    JOIN risk_events ev ON ev.id = em.event_id
    WHERE em.model = {model} AND {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY em.embedding::halfvec({dimension}) <=> %(query)s::halfvec({dimension})
    LIMIT %(candidates)s
),
keyword_candidates AS (
    SELECT ev.id, -(b.weights <#> q.weights) AS keyword_score
    FROM bm25_query(%(keywords)s) AS q
    JOIN risk_events ev ON ev.search_tsv @@ q.terms
    JOIN event_bm25 b ON b.event_id = ev.id
    WHERE {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY keyword_score DESC, ev.id
    LIMIT %(candidates)s
),
vector_side AS (
    SELECT id, 1 - distance AS similarity, rank() OVER (ORDER BY distance) AS vector_rank
    FROM vector_candidates
),
keyword_side AS (
    SELECT id, keyword_score, rank() OVER (ORDER BY keyword_score DESC) AS keyword_rank
    FROM keyword_candidates
)
SELECT id, score, similarity, vector_rank, keyword_score, keyword_rank FROM (
    SELECT coalesce(v.id, kw.id) AS id,
           coalesce(%(vector_weight)s::float8 / (%(rrf_k)s::int + v.vector_rank), 0)
           + coalesce(%(keyword_weight)s::float8 / (%(rrf_k)s::int + kw.keyword_rank), 0) AS score,
           v.similarity, v.vector_rank, kw.keyword_score, kw.keyword_rank
    FROM vector_side v
    FULL OUTER JOIN keyword_side kw ON kw.id = v.id
) fused
ORDER BY score DESC, id
LIMIT %(k)s
