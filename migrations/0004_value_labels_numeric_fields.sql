-- Labels and synonyms a mapping declares for stored values ([labels] in the mapping TOML: a value
-- stored as a code, such as `CFSAN` or `C1`, and the words people use for it). The planner reads a
-- value by its label as well as by its name. Written by ingestion, per field and value.
CREATE TABLE IF NOT EXISTS value_labels (
    field  text NOT NULL,  -- a typed column, or attributes.<key>
    value  text NOT NULL,
    label  text NOT NULL,
    PRIMARY KEY (field, value)
);

-- Attribute keys whose every stored value is a number (a JSON number or a numeric string): the
-- fields a number in a question can be bound to ("more than 2 million units"). Part of the
-- registry: ingestion refreshes it together with field_values.
CREATE TABLE IF NOT EXISTS numeric_fields (
    field   text    PRIMARY KEY,  -- attributes.<key>
    events  integer NOT NULL
);

-- "like 3456789": analysts quote an event by its source id (a complaint number, a case id).
CREATE INDEX IF NOT EXISTS risk_events_source_id_idx ON risk_events (source_id);

-- Fill it for events stored before this migration (ingestion keeps it current from now on).
INSERT INTO numeric_fields (field, events)
SELECT 'attributes.' || kv.key, count(*)
FROM risk_events ev, jsonb_each(ev.attributes) kv
GROUP BY kv.key
HAVING bool_and(jsonb_typeof(kv.value) = 'number'
                OR (jsonb_typeof(kv.value) = 'string' AND kv.value #>> '{}' ~ '^\s*[-+]?[0-9][0-9,]*(\.[0-9]+)?\s*$'))
   AND NOT EXISTS (SELECT 1 FROM numeric_fields)  -- once filled, the registry's refresh keeps it (0007 made it per scope)
ON CONFLICT DO NOTHING;
