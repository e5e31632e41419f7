-- The LangChain adapter's documents by id: one source's events, keyed by source id.
SELECT source_id, text, attributes
FROM risk_events
WHERE source = %(source)s AND source_id = ANY(%(ids)s)
