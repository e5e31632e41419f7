-- Two processes migrating at once take turns (an advisory lock held to the end of the transaction).
SELECT pg_advisory_xact_lock(%s)
