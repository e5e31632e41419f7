-- How many events the filters match, counted up to %(limit)s (a search needs to know no more to choose
-- between the exact scan and the index). {where} is compiled by assistant/filters.py.
SELECT count(*) AS matched FROM (SELECT 1 FROM risk_events ev WHERE {where} LIMIT %(limit)s) AS up_to
