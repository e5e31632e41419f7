-- Read every block of a relation (by oid) into shared buffers, pg_prewarm's 'buffer' mode; the blocks read.
-- {schema} is the extension's schema (assistant/vector_index.py), whatever the search_path.
SELECT {schema}.pg_prewarm(%(oid)s::oid::regclass) AS blocks
