-- Events matching a plan's filters that were ingested or updated after a moment (an audit replay's
-- first suspect). {where} is compiled by assistant/filters.py: allowlisted columns, bound values.
SELECT count(*) FILTER (WHERE ev.ingested_at > %(since)s) AS ingested,
       count(*) FILTER (WHERE ev.ingested_at <= %(since)s AND ev.updated_at > %(since)s) AS updated
FROM risk_events ev
WHERE {where}
