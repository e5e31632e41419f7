-- How many vectors a model has, and how many it had when its vector index was last built.
SELECT (SELECT count(*) FROM event_embeddings WHERE model = %(model)s) AS vectors,
       (SELECT indexed_rows FROM embedding_models WHERE name = %(model)s) AS indexed_rows
