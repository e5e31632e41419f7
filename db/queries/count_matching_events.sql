-- {where} is compiled by assistant/filters.py: allowlisted columns, bound values.
SELECT count(*) AS matched FROM risk_events ev WHERE {where}
