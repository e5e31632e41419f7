-- The server's version and pgvector's: the version this server can install and the one installed here.
SELECT current_setting('server_version') AS postgres,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed
