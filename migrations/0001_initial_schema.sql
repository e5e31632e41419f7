-- Risk events, their embeddings (one row per event and model), and a record of ingest runs.
-- Re-runnable: every statement is a no-op when its object already exists.

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE IF NOT EXISTS risk_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text        NOT NULL,
    source_id     text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    category      text        NOT NULL,
    subcategory   text,
    severity      text        CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    entity_id     text,
    entity_name   text,
    amount        numeric(18, 2),
    currency      text        CHECK (currency ~ '^[A-Z]{3}$'),
    status        text,
    title         text,
    text          text        NOT NULL,
    attributes    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    content_hash  bytea       NOT NULL,
    scope         text        NOT NULL DEFAULT 'default',  -- row-level access control, later
    ingested_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    search_tsv    tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', text), 'B')
    ) STORED,
    CONSTRAINT risk_events_source_key UNIQUE (source, source_id)
);

CREATE INDEX IF NOT EXISTS risk_events_occurred_at_idx ON risk_events (occurred_at);
CREATE INDEX IF NOT EXISTS risk_events_category_idx    ON risk_events (category, occurred_at);
CREATE INDEX IF NOT EXISTS risk_events_subcategory_idx ON risk_events (subcategory);
CREATE INDEX IF NOT EXISTS risk_events_severity_idx    ON risk_events (severity);
CREATE INDEX IF NOT EXISTS risk_events_entity_idx      ON risk_events (entity_id, occurred_at);
CREATE INDEX IF NOT EXISTS risk_events_amount_idx      ON risk_events (amount);
CREATE INDEX IF NOT EXISTS risk_events_status_idx      ON risk_events (status);
CREATE INDEX IF NOT EXISTS risk_events_scope_idx       ON risk_events (scope);
CREATE INDEX IF NOT EXISTS risk_events_attributes_idx  ON risk_events USING gin (attributes jsonb_path_ops);
CREATE INDEX IF NOT EXISTS risk_events_search_idx      ON risk_events USING gin (search_tsv);

CREATE TABLE IF NOT EXISTS embedding_models (
    name        text        PRIMARY KEY,
    dimension   integer     NOT NULL CHECK (dimension > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One vector per event and model, so a second model can be filled in beside the first.
-- The HNSW index is per model (a partial index on embedding::vector(dim)); it is created at
-- start-up, once the model's dimension is known: see db/queries/create_embedding_index.sql.
CREATE TABLE IF NOT EXISTS event_embeddings (
    event_id      bigint      NOT NULL REFERENCES risk_events (id) ON DELETE CASCADE,
    model         text        NOT NULL REFERENCES embedding_models (name),
    content_hash  bytea       NOT NULL,  -- the event content the vector was computed from
    embedding     vector      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, model)
);

CREATE TABLE IF NOT EXISTS ingest_runs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text        NOT NULL,
    path         text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    inserted     integer     NOT NULL DEFAULT 0,
    updated      integer     NOT NULL DEFAULT 0,
    unchanged    integer     NOT NULL DEFAULT 0,
    rejected     integer     NOT NULL DEFAULT 0
);
