-- One partial IVFFlat index per embedding model, over half-precision copies of its vectors (cosine):
-- searches re-rank its candidates by the exact float distance (search_events_ivf.sql). Built from the
-- stored vectors, which its lists are learnt from, by assistant/vector_index.py; CONCURRENTLY, so that
-- searches and ingestion go on meanwhile. {index}, {dimension}, {lists} and {model} are composed with
-- psycopg.sql (identifier and literals), never from user text.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON event_embeddings
USING ivfflat ((embedding::halfvec({dimension})) halfvec_cosine_ops)
WITH (lists = {lists})
WHERE model = {model}
