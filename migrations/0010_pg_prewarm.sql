-- pg_prewarm, to load a model's vector index into shared buffers after it is built and when the app starts
-- (assistant/vector_index.py, prewarm). pgvector's IVFFlat scan reads the lists through a 256 kB ring
-- (a bulk-read buffer strategy), so list pages that are not in shared buffers already never stay there:
-- every search copied 1,500-3,500 of its pages in from the OS cache again (1M events, 40 lists). Loaded
-- once, they stay: at 1M events the 0.8 GB index loads in 0.5 s, and a search filtered to 1% of the
-- events took 29.2 / 33.3 ms (p50 / p95) in place of 32.8 / 37.5 ms.
--
-- The extension ships with PostgreSQL's contrib (and with the embedded server). Installing it needs a
-- superuser, or a managed service's equivalent: where it is missing or refused (whatever the error), this
-- migration only says so, and searches work as before, without the preloading.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_prewarm;
    ELSE
        RAISE NOTICE 'pg_prewarm is not available: vector indexes are not preloaded into shared buffers';
    END IF;
EXCEPTION WHEN OTHERS THEN  -- no privilege, not on a managed service's allow-list (Azure: 0A000), ...
    RAISE NOTICE 'pg_prewarm not installed (% %): vector indexes are not preloaded into shared buffers',
        SQLSTATE, SQLERRM;
END
$$;
