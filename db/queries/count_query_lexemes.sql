-- How many distinct lexemes the keyword text has under the English configuration (as BM25 reads it,
-- migrations/0008_bm25.sql): 0 when it is empty, only stop words or punctuation. It reads no event, so
-- whether a search falls back to similarity never tells an analyst what other scopes' events hold.
SELECT cardinality(tsvector_to_array(to_tsvector('english', %(keywords)s))) AS lexemes
