INSERT INTO ingest_runs (source, path, finished_at, inserted, updated, unchanged, rejected)
VALUES (%(source)s, %(path)s, now(), %(inserted)s, %(updated)s, %(unchanged)s, %(rejected)s)
