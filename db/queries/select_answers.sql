-- The latest recorded answers, newest first; optionally one analyst's.
SELECT id, asked_at, analyst, scopes, mode, matched, cardinality(cited_ids) AS cited, question
FROM answers
WHERE %(analyst)s::text IS NULL OR analyst = %(analyst)s
ORDER BY asked_at DESC
LIMIT %(limit)s
