-- Read every block of a relation (by oid) into shared buffers, pg_prewarm's 'buffer' mode; the blocks read.
SELECT pg_prewarm(%(oid)s::oid::regclass) AS blocks
