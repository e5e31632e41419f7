-- One partial HNSW index per embedding model; {index}, {dimension} and {model} are composed
-- with psycopg.sql (identifier and literals), never from user text. m 32 and ef_construction 128
-- (pgvector's defaults are 16 and 64): on 1M clustered vectors (bench/retrieval.py) recall@10 of the
-- unfiltered search was 0.90-0.973 at the defaults, 0.987 at m 16 / ef_construction 128 and 0.997 at
-- m 32 / ef_construction 128, for a build of 912 s instead of 467 s on 2 cores (the index is 4% larger).
CREATE INDEX IF NOT EXISTS {index} ON event_embeddings
USING hnsw ((embedding::vector({dimension})) vector_cosine_ops)
WITH (m = 32, ef_construction = 128)
WHERE model = {model}
