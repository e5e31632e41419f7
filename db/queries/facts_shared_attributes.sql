-- Attribute values that several events {where} selects share (a merchant, a region, a rule), with
-- their ids. {where} is compiled by assistant/filters.py.
SELECT kv.key || ' = ' || kv.value AS value, count(*) AS n, array_agg(ev.id ORDER BY ev.id) AS ids
FROM risk_events ev, jsonb_each_text(ev.attributes) kv
WHERE {where}
GROUP BY kv.key, kv.value
HAVING count(*) >= 2
ORDER BY n DESC, value
LIMIT %(limit)s
