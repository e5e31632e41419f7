-- Rebuild the registry from the stored events, per scope (row-level security shows each analyst the
-- values of their own scopes only). Attribute keys with more than 200 distinct values (ids, free
-- text) are left out: they are not categories an analyst names.
DELETE FROM field_values;
INSERT INTO field_values (scope, field, value, events)
SELECT scope, field, value, count(*)
FROM (
    SELECT scope, 'category' AS field, category AS value FROM risk_events
    UNION ALL SELECT scope, 'subcategory', subcategory FROM risk_events WHERE subcategory IS NOT NULL
    UNION ALL SELECT scope, 'severity', severity FROM risk_events WHERE severity IS NOT NULL
    UNION ALL SELECT scope, 'status', status FROM risk_events WHERE status IS NOT NULL
    UNION ALL SELECT scope, 'currency', currency FROM risk_events WHERE currency IS NOT NULL
    UNION ALL SELECT scope, 'entity_name', entity_name FROM risk_events
        WHERE entity_name IS NOT NULL AND length(entity_name) <= 120
    UNION ALL SELECT ev.scope, 'attributes.' || kv.key, kv.value
    FROM risk_events ev, jsonb_each_text(ev.attributes) kv
    WHERE length(kv.value) <= 120
) facts
GROUP BY scope, field, value;
DELETE FROM field_values
WHERE field LIKE 'attributes.%'
  AND field IN (SELECT field FROM field_values GROUP BY field HAVING count(DISTINCT value) > 200);
-- Entity names (companies, merchants) are kept up to 10,000: beyond that they are people, not names to ground.
DELETE FROM field_values
WHERE field = 'entity_name'
  AND (SELECT count(DISTINCT value) FROM field_values WHERE field = 'entity_name') > 10000;
DELETE FROM subcategory_parents;
INSERT INTO subcategory_parents (scope, subcategory, category, events)
SELECT scope, subcategory, category, count(*) FROM risk_events WHERE subcategory IS NOT NULL
GROUP BY scope, subcategory, category;
DELETE FROM numeric_fields;
INSERT INTO numeric_fields (scope, field, events)
SELECT ev.scope, 'attributes.' || kv.key, count(*)
FROM risk_events ev, jsonb_each(ev.attributes) kv
GROUP BY ev.scope, kv.key
HAVING bool_and(jsonb_typeof(kv.value) = 'number'
                OR (jsonb_typeof(kv.value) = 'string' AND kv.value #>> '{}' ~ '^\s*[-+]?[0-9][0-9,]*(\.[0-9]+)?\s*$'));
