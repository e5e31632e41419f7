-- Vector search by IVFFlat over half-precision copies of the vectors, re-ranked by the exact float distance
-- (issue 12). Replaces the per-model HNSW index of 0001/create_embedding_index.sql.
--
-- Why: at 1M events on 2 cores (bench/retrieval.py, bench/README.md) the HNSW index (m 32, ef_construction
-- 128) took 912-1,046 s to build and 2.0 GB, and needed ef_search 1000 for recall@10 0.99; a filtered search
-- over 1-10% of the events went to the exact scan (0.06-0.6 s). IVFFlat on halfvec builds in 39 s and is
-- 0.8 GB; with 20 of its 1,000 lists probed (iterative scan: more while too few rows pass the filters) a
-- search took 16-44 ms (p50) at 0.1-100% selectivity, recall@10 1.000 on the clustered benchmark once
-- re-ranked. Real text needs more lists read than clustered vectors do (tests/test_vector_index.py).
--
-- An IVFFlat index learns its lists from the rows it is built over, so it is built from data, not at
-- start-up: assistant/vector_index.py builds it once a model has enough vectors and rebuilds it (CREATE
-- INDEX CONCURRENTLY, searches go on) each time the model's vector count has doubled since the last build.
-- indexed_rows is that count at the last build (NULL: never built).
ALTER TABLE embedding_models ADD COLUMN IF NOT EXISTS indexed_rows bigint;

-- The HNSW indexes are derived data: dropping them loses nothing, and their upkeep slowed every insert.
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
                WHERE schemaname = current_schema() AND tablename = 'event_embeddings'
                  AND indexname LIKE 'event\_embeddings\_hnsw\_%'
    LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', name);
    END LOOP;
END
$$;
