-- Full-text search under the filters: events matching websearch_to_tsquery over the GIN-indexed
-- search_tsv, by ts_rank_cd (ties share a rank). {where} is compiled by assistant/filters.py.
-- The columns match search_hybrid_*.sql, the vector ones left empty.
SELECT id, keyword_score AS score, NULL::float8 AS similarity, NULL::bigint AS vector_rank,
       keyword_score, rank() OVER (ORDER BY keyword_score DESC) AS keyword_rank
FROM (
    SELECT ev.id, ts_rank_cd(ev.search_tsv, tsq)::float8 AS keyword_score
    FROM risk_events ev, websearch_to_tsquery('english', %(keywords)s) AS tsq
    WHERE ev.search_tsv @@ tsq AND {where} AND NOT (ev.id = ANY(%(exclude_ids)s))
    ORDER BY keyword_score DESC, ev.id
    LIMIT %(k)s
) matches
ORDER BY keyword_score DESC, id
