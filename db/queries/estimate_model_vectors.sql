-- The planner's row estimate of event_embeddings (every model): an upper bound on one model's vectors, read
-- without a scan, so that start-up skips the exact count when the index cannot need a rebuild.
SELECT reltuples::bigint AS estimate FROM pg_class WHERE oid = 'event_embeddings'::regclass
