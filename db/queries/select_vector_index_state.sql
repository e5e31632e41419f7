-- Whether a model has a valid vector index to search, and how many vectors it was built over.
SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = 'event_embeddings'::regclass AND starts_with(c.relname, %(prefix)s)
                 AND i.indisvalid) AS valid,
       (SELECT indexed_rows FROM embedding_models WHERE name = %(model)s) AS indexed_rows
