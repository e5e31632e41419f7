-- Row-level security: an analyst sees only the events of their scopes, and what is derived from them.
--
-- The app connects as risk_app, a role that is neither a superuser nor BYPASSRLS (a superuser would
-- skip every policy). Each request sets its analyst's scopes inside its own transaction:
--     SELECT set_config('risk.scopes', 'cards,aml', true)    -- '*' is every scope; unset, nothing
-- and the policies below read them. FORCE makes the tables' owner obey them too (only a superuser,
-- that is the migrations and the embedded server's admin, does not).

DO $$
BEGIN
    CREATE ROLE risk_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- roles are shared by every database of a server: another database made it first
END
$$;

-- The request's scopes, as an array; empty (no scope at all) when the request set none.
CREATE OR REPLACE FUNCTION risk_scopes() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(string_to_array(nullif(current_setting('risk.scopes', true), ''), ','), '{}') $$;

-- Whether the request may see every scope ('*': the default single-user install, ingestion).
CREATE OR REPLACE FUNCTION risk_all_scopes() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT '*' = ANY (risk_scopes()) $$;

-- Analysts and their scopes; Slack users and UI logins map to them. An unknown analyst has no scope.
CREATE TABLE IF NOT EXISTS analysts (
    name        text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    scopes      text[]      NOT NULL CHECK (array_position(scopes, NULL) IS NULL),
    slack_user  text        UNIQUE,
    ui_login    text        UNIQUE,
    added_at    timestamptz NOT NULL DEFAULT now()
);
-- With no set-up, the one local analyst sees everything, as before scopes existed.
INSERT INTO analysts (name, scopes, ui_login) VALUES ('local', '{*}', NULL) ON CONFLICT (name) DO NOTHING;

-- The registry is per scope, so that a value stored only in another scope is never suggested.
-- Registries filled before scopes existed are emptied: the next start-up or ingest refills them per scope.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'field_values' AND column_name = 'scope') THEN
        DELETE FROM field_values;
        DELETE FROM subcategory_parents;
        DELETE FROM numeric_fields;
        ALTER TABLE field_values ADD COLUMN scope text NOT NULL DEFAULT 'default';
        ALTER TABLE field_values DROP CONSTRAINT field_values_pkey;
        ALTER TABLE field_values ADD PRIMARY KEY (scope, field, value);
        ALTER TABLE subcategory_parents ADD COLUMN scope text NOT NULL DEFAULT 'default';
        ALTER TABLE subcategory_parents DROP CONSTRAINT subcategory_parents_pkey;
        ALTER TABLE subcategory_parents ADD PRIMARY KEY (scope, subcategory, category);
        ALTER TABLE numeric_fields ADD COLUMN scope text NOT NULL DEFAULT 'default';
        ALTER TABLE numeric_fields DROP CONSTRAINT numeric_fields_pkey;
        ALTER TABLE numeric_fields ADD PRIMARY KEY (scope, field);
    END IF;
END
$$;

-- An answer is readable by whoever holds every scope it drew on.
ALTER TABLE answers ADD COLUMN IF NOT EXISTS scopes text[] NOT NULL DEFAULT '{*}';

ALTER TABLE risk_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_events FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_scope ON risk_events;
-- (SELECT ...) makes each an InitPlan: evaluated once per statement, not once per row.
CREATE POLICY by_scope ON risk_events
    USING ((SELECT risk_all_scopes()) OR scope = ANY ((SELECT risk_scopes())::text[]));

ALTER TABLE event_embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_embeddings FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_event ON event_embeddings;
CREATE POLICY by_event ON event_embeddings
    USING ((SELECT risk_all_scopes()) OR EXISTS (SELECT 1 FROM risk_events e WHERE e.id = event_id));

ALTER TABLE field_values ENABLE ROW LEVEL SECURITY;
ALTER TABLE field_values FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_scope ON field_values;
CREATE POLICY by_scope ON field_values
    USING ((SELECT risk_all_scopes()) OR scope = ANY ((SELECT risk_scopes())::text[]));

ALTER TABLE subcategory_parents ENABLE ROW LEVEL SECURITY;
ALTER TABLE subcategory_parents FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_scope ON subcategory_parents;
CREATE POLICY by_scope ON subcategory_parents
    USING ((SELECT risk_all_scopes()) OR scope = ANY ((SELECT risk_scopes())::text[]));

ALTER TABLE numeric_fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE numeric_fields FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_scope ON numeric_fields;
CREATE POLICY by_scope ON numeric_fields
    USING ((SELECT risk_all_scopes()) OR scope = ANY ((SELECT risk_scopes())::text[]));

ALTER TABLE answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE answers FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_scope ON answers;
CREATE POLICY by_scope ON answers
    USING ((SELECT risk_all_scopes()) OR scopes <@ (SELECT risk_scopes()));

ALTER TABLE feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE feedback FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_answer ON feedback;
CREATE POLICY by_answer ON feedback
    USING (EXISTS (SELECT 1 FROM answers a WHERE a.id = answer_id));

-- Under a policy, PostgreSQL evaluates a query's own conditions after the policy's unless their functions
-- are LEAKPROOF, and so cannot use an index for them: the keyword search's `search_tsv @@ query` would scan
-- every event. ts_match_vq reveals nothing of its arguments but its result; marking it needs a superuser
-- (the embedded server's migrations run as one). Elsewhere, ask the DBA, or keyword search scans.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF;
    ELSE
        RAISE NOTICE 'not a superuser: ts_match_vq is not marked LEAKPROOF, keyword search under row-level security scans';
    END IF;
END
$$;

-- What the app may do. Answers and feedback are append-only for it: no UPDATE, no DELETE.
GRANT USAGE ON SCHEMA public TO risk_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON risk_events, event_embeddings, field_values, subcategory_parents, numeric_fields, value_labels,
       ingest_runs
    TO risk_app;
GRANT SELECT, INSERT ON embedding_models, answers, feedback TO risk_app;
GRANT SELECT ON analysts, schema_migrations TO risk_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO risk_app;
GRANT EXECUTE ON FUNCTION risk_scopes(), risk_all_scopes() TO risk_app;
