-- The model's valid vector index as pg_prewarm would load it: its oid, name and size, the shared buffers it
-- would go into, and the schema pg_prewarm is installed in (NULL: not installed; migrations/0010_pg_prewarm.sql).
SELECT c.oid::bigint AS oid, c.relname AS name, pg_relation_size(c.oid) AS bytes,
       pg_size_bytes(current_setting('shared_buffers')) AS shared_buffers,
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_prewarm') AS extension_schema
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'event_embeddings'::regclass AND starts_with(c.relname, %(prefix)s) AND i.indisvalid
ORDER BY c.relname
LIMIT 1
