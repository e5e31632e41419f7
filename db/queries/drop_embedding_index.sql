-- A model's superseded (or half-built) vector index; {index} is an identifier composed by
-- assistant/vector_index.py from the model's own index names.
DROP INDEX CONCURRENTLY IF EXISTS {index}
