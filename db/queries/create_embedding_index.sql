-- One partial HNSW index per embedding model; {index}, {dimension} and {model} are composed
-- with psycopg.sql (identifier and literals), never from user text.
CREATE INDEX IF NOT EXISTS {index} ON event_embeddings
USING hnsw ((embedding::vector({dimension})) vector_cosine_ops)
WITH (m = 16, ef_construction = 64)
WHERE model = {model}
