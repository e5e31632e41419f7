-- The registry of filterable values: every stored value of the low-cardinality typed columns and
-- attribute keys, with how many events carry it. The planner grounds question phrases in it
-- (exactly, or approximately with pg_trgm); ingestion refreshes it.

CREATE TABLE IF NOT EXISTS field_values (
    field   text    NOT NULL,  -- a typed column, or attributes.<key>
    value   text    NOT NULL,
    events  integer NOT NULL,
    PRIMARY KEY (field, value)
);

CREATE INDEX IF NOT EXISTS field_values_trgm_idx ON field_values USING gin (lower(value) gin_trgm_ops);
