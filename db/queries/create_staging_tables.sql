-- Per-transaction staging tables that COPY fills; dropped at commit or rollback.
CREATE TEMP TABLE staging_events (
    source text, source_id text, occurred_at timestamptz, category text, subcategory text,
    severity text, entity_id text, entity_name text, amount numeric(18, 2), currency text,
    status text, title text, text text, attributes jsonb, content_hash bytea, scope text
) ON COMMIT DROP;
CREATE TEMP TABLE staging_embeddings (source_id text, embedding vector) ON COMMIT DROP;
