-- Of the given events, how many satisfy the filters ({where}, compiled by assistant/filters.py): the
-- evaluation's check of the events an answer returned against a question's gold filters.
SELECT count(*) AS n FROM risk_events ev WHERE ev.id = ANY(%(ids)s) AND {where}
