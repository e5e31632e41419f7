-- Keyword search under the filters, by BM25 (migrations/0008_bm25.sql): the events holding any known
-- term of the keyword text (found through the GIN-indexed search_tsv), scored by the inner product of
-- their stored BM25 term weights and the query's idf weights (ties share a rank). {where} is compiled
-- by assistant/filters.py. The columns match search_hybrid_*.sql, the vector ones left empty.
SELECT id, keyword_score AS score, NULL::float8 AS similarity, NULL::bigint AS vector_rank,
       keyword_score, rank() OVER (ORDER BY keyword_score DESC) AS keyword_rank
FROM (
    SELECT ev.id, -(b.weights <#> q.weights) AS keyword_score
    FROM bm25_query(%(keywords)s) AS q
    JOIN risk_events ev ON ev.search_tsv @@ q.terms
    JOIN event_bm25 b ON b.event_id = ev.id
    WHERE {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY keyword_score DESC, ev.id
    LIMIT %(k)s
) matches
ORDER BY keyword_score DESC, id
