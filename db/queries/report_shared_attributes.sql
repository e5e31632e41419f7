-- Attribute values that several retrieved events share (a merchant, a region, a rule).
SELECT kv.key || ' = ' || kv.value AS value, count(*) AS n, array_agg(ev.id ORDER BY ev.id) AS ids
FROM risk_events ev, jsonb_each_text(ev.attributes) kv
WHERE ev.id = ANY(%(ids)s)
GROUP BY kv.key, kv.value
HAVING count(*) >= 2
ORDER BY n DESC, value
LIMIT %(limit)s
