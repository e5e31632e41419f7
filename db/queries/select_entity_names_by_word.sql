-- Stored entity names that begin with one of the given words ("experian" -> "Experian Information
-- Solutions Inc."): analysts name a company by its first word, which pg_trgm scores low against
-- the whole legal name.
SELECT value, events
FROM field_values
WHERE field = 'entity_name' AND lower(substring(value FROM '^[A-Za-z0-9]+')) = ANY(%(words)s)
ORDER BY events DESC
LIMIT 50
