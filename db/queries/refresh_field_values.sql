-- Rebuild the registry from the stored events. Attribute keys with more than 200 distinct values
-- (ids, free text) are left out: they are not categories an analyst names.
DELETE FROM field_values;
INSERT INTO field_values (field, value, events)
SELECT field, value, count(*)
FROM (
    SELECT 'category' AS field, category AS value FROM risk_events
    UNION ALL SELECT 'subcategory', subcategory FROM risk_events WHERE subcategory IS NOT NULL
    UNION ALL SELECT 'severity', severity FROM risk_events WHERE severity IS NOT NULL
    UNION ALL SELECT 'status', status FROM risk_events WHERE status IS NOT NULL
    UNION ALL SELECT 'currency', currency FROM risk_events WHERE currency IS NOT NULL
    UNION ALL SELECT 'entity_name', entity_name FROM risk_events WHERE entity_name IS NOT NULL AND length(entity_name) <= 120
    UNION ALL SELECT 'attributes.' || kv.key, kv.value
    FROM risk_events ev, jsonb_each_text(ev.attributes) kv
    WHERE length(kv.value) <= 120
) facts
GROUP BY field, value;
DELETE FROM field_values
WHERE field LIKE 'attributes.%'
  AND field IN (SELECT field FROM field_values GROUP BY field HAVING count(*) > 200);
-- Entity names (companies, merchants) are kept up to 10,000: beyond that they are people, not names to ground.
DELETE FROM field_values
WHERE field = 'entity_name' AND (SELECT count(*) FROM field_values WHERE field = 'entity_name') > 10000;
DELETE FROM subcategory_parents;
INSERT INTO subcategory_parents (subcategory, category, events)
SELECT subcategory, category, count(*) FROM risk_events WHERE subcategory IS NOT NULL GROUP BY subcategory, category;
DELETE FROM numeric_fields;
INSERT INTO numeric_fields (field, events)
SELECT 'attributes.' || kv.key, count(*)
FROM risk_events ev, jsonb_each(ev.attributes) kv
GROUP BY kv.key
HAVING bool_and(jsonb_typeof(kv.value) = 'number'
                OR (jsonb_typeof(kv.value) = 'string' AND kv.value #>> '{}' ~ '^\s*[-+]?[0-9][0-9,]*(\.[0-9]+)?\s*$'));
