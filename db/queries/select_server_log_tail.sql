-- The end of the server's current log file (needs superuser or pg_read_server_files; NULL without a
-- logging collector). Read after a backend died, to name the signal that killed it.
SELECT right(pg_read_file(pg_current_logfile()), %(chars)s) AS tail
