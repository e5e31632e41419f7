-- Staged events whose search_tsv (the expression of risk_events.search_tsv, migrations/0001) would hold more
-- distinct lexemes than the BM25 document vector can: a sparsevec stores at most 16,000 non-zero elements
-- (migrations/0008_bm25.sql). Only texts long enough to hold that many words are tokenised here: a lexeme
-- and the space after it take two characters at least.
SELECT source_id, lexemes FROM (
    SELECT source_id, length(setweight(to_tsvector('english', coalesce(title, '')), 'A')
                             || setweight(to_tsvector('english', text), 'B')) AS lexemes
    FROM staging_events
    WHERE length(coalesce(title, '')) + length(text) > 2 * %(max_lexemes)s
) counted
WHERE lexemes > %(max_lexemes)s
