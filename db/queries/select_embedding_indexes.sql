-- A model's vector indexes (names start with its prefix), whether each is valid (a CONCURRENTLY build that
-- failed leaves an invalid one behind) and its number of lists.
SELECT c.relname AS name, i.indisvalid AS valid,
       (SELECT split_part(option, '=', 2)::int FROM unnest(c.reloptions) AS option
        WHERE option LIKE 'lists=%%') AS lists
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'event_embeddings'::regclass AND starts_with(c.relname, %(prefix)s)
ORDER BY c.relname
