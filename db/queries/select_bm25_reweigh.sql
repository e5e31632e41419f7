-- The avgdl policy of migrations/0008_bm25.sql: re-weigh every event's BM25 weights when the average
-- length moved by more than the tolerance (relative) from the one they used; whether it did.
SELECT bm25_reweigh(%(tolerance)s) AS reweighed
