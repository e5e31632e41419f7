-- A label a mapping declares for one stored value; the latest ingest's label wins.
INSERT INTO value_labels (field, value, label) VALUES (%(field)s, %(value)s, %(label)s)
ON CONFLICT (field, value) DO UPDATE SET label = EXCLUDED.label
