-- BM25 for the keyword side of retrieval, scored inside PostgreSQL (issue 12).
--
-- Reference: bm25s 0.3.16, its default "lucene" variant, k1 = 1.5, b = 0.75:
--     score(d, q) = sum over the distinct terms t of q found in d of  idf(t) * w(t, d)
--     idf(t)     = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))           (never negative: no epsilon floor)
--     w(t, d)    = tf / (tf + k1 * (1 - b + b * dl / avgdl))
-- Each event's w(t, d) are stored as a pgvector sparsevec (event_bm25.weights, index = term id), the query
-- is a sparsevec of idf(t) (bm25_query), so the inner product IS the BM25 score: -(weights <#> query).
-- Both vectors have the one fixed dimension 1,000,000,000 (pgvector's maximum) so that they can be multiplied.
-- sparsevec holds float4: a score is exact to about 1e-6 relative, and events whose scores differ by less
-- can swap places.
--
-- Tokens: search_tsv, the generated column of 0001 (English config: stop words, Snowball stems), title and
-- text as ONE field (title positions first). tf = the number of positions of a lexeme in search_tsv,
-- dl = the sum of an event's tf. Caveats of to_tsvector: a lexeme keeps at most 255 positions (tf <= 255)
-- and words after position 16,383 share that one position (a lexeme first seen there counts once, later
-- repeats not at all), so a very long event is scored as if truncated. A sparsevec holds at most 16,000
-- non-zero elements: an event with more distinct lexemes fails to store (its batch is rolled back).
--
-- Statistics: bm25_terms (df per lexeme) and bm25_stats (N, total length) are kept exact by statement
-- triggers on risk_events, whatever writes it (ingest's upsert, the LangChain store's upsert and delete):
-- an insert adds, a delete subtracts, an update whose search_tsv changed subtracts the old and adds the new,
-- all in the writing transaction (an ingest batch stays all-or-nothing). Terms whose df falls to 0 are
-- deleted. idf is computed at query time from the current df and N: always exact.
--
-- avgdl policy: stored weights depend on avgdl, which moves with every insert. Rewriting every event's
-- weights on every batch would make an ingest quadratic, so the weights are computed with
-- bm25_stats.weighed_avgdl, and bm25_reweigh(tolerance) rewrites them all (and sets weighed_avgdl to the
-- true avgdl) when the two differ by more than `tolerance`, relative. assistant/ingest.py calls it at the
-- end of each ingest run with assistant.bm25.AVGDL_TOLERANCE (0.5%): between runs the scores use an avgdl
-- within 0.5% of the true one (each weight's relative error is below the avgdl's); with tolerance 0 they are
-- exact BM25. The first events stored are weighed with their own avgdl.
--
-- Row-level security: event_bm25 holds per-event data: a policy like event_embeddings'. bm25_terms and
-- bm25_stats hold collection-wide counts: the app role gets no privilege on them at all (the lexemes are
-- words of every scope's events, so listing them would leak content). The app reaches them only through the
-- SECURITY DEFINER functions bm25_query (the idf of the terms of the text it passes: counts over all scopes,
-- the way a search engine's idf is index-wide, never a word it did not name) and bm25_reweigh; the triggers
-- that maintain them are SECURITY DEFINER too, and no role may call their helpers. They and bm25_reweigh see
-- every scope (SET risk.scopes, restored when they return): where the owner is no superuser, FORCE row-level
-- security would otherwise hide from them, and leave unweighed, the events of scopes the writer cannot see.
-- Re-runnable: every statement is a no-op when its object exists; the backfill stores only missing events.

CREATE TABLE IF NOT EXISTS bm25_terms (
    id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the term's index in every sparsevec
    lexeme  text    NOT NULL UNIQUE,
    df      integer NOT NULL CHECK (df > 0)
);

CREATE TABLE IF NOT EXISTS bm25_stats (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),  -- a single row
    documents      bigint  NOT NULL DEFAULT 0 CHECK (documents >= 0),
    total_length   bigint  NOT NULL DEFAULT 0 CHECK (total_length >= 0),
    weighed_avgdl  float8  CHECK (weighed_avgdl > 0)  -- the avgdl the stored weights used; NULL: none yet
);
INSERT INTO bm25_stats (one) VALUES (true) ON CONFLICT (one) DO NOTHING;

CREATE TABLE IF NOT EXISTS event_bm25 (
    event_id  bigint    PRIMARY KEY REFERENCES risk_events (id) ON DELETE CASCADE,
    length    integer   NOT NULL CHECK (length >= 0),  -- dl
    term_ids  integer[] NOT NULL,                      -- ascending; tfs beside them, to re-weigh
    tfs       integer[] NOT NULL,
    weights   sparsevec NOT NULL                       -- w(t, d) by term id
);

-- An event's term frequencies: one row per (event, lexeme) of its search_tsv.
CREATE OR REPLACE FUNCTION bm25_postings(ids bigint[], tsvs tsvector[])
    RETURNS TABLE (event_id bigint, lexeme text, tf integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT e.id, t.lexeme, coalesce(cardinality(t.positions), 1)
          FROM unnest(ids, tsvs) AS e (id, tsv), unnest(e.tsv) AS t (lexeme, positions, weights) $$;

-- One event's weights w(t, d) as a sparsevec (k1 1.5, b 0.75).
CREATE OR REPLACE FUNCTION bm25_vector(term_ids integer[], tfs integer[], dl integer, avgdl float8)
    RETURNS sparsevec
    LANGUAGE sql STABLE PARALLEL SAFE  -- STABLE: the text of a float8 follows extra_float_digits
    AS $$ SELECT format('{%s}/1000000000', coalesce(string_agg(
                     format('%s:%s', x.id, x.tf / (x.tf + 1.5 * (1 - 0.75 + 0.75 * dl / avgdl))), ','
                     ORDER BY x.id), ''))::sparsevec
          FROM unnest(term_ids, tfs::float8[]) AS x (id, tf) $$;

-- Take events out of the statistics (their search_tsv as it was) and drop their weights.
CREATE OR REPLACE FUNCTION bm25_remove(ids bigint[], tsvs tsvector[]) RETURNS void
    LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $$
BEGIN
    -- Terms no event holds any more go first; the others count down (in lexeme order, as bm25_add locks them).
    DELETE FROM bm25_terms t USING (SELECT lexeme, count(*) AS n FROM bm25_postings(ids, tsvs) GROUP BY lexeme) c
    WHERE t.lexeme = c.lexeme AND t.df <= c.n;
    WITH counted AS (SELECT lexeme, count(*) AS n FROM bm25_postings(ids, tsvs) GROUP BY lexeme ORDER BY lexeme)
    UPDATE bm25_terms t SET df = t.df - c.n FROM counted c WHERE t.lexeme = c.lexeme;
    UPDATE bm25_stats SET documents = documents - cardinality(ids),
                          total_length = total_length - (SELECT coalesce(sum(tf), 0) FROM bm25_postings(ids, tsvs)),
                          weighed_avgdl = CASE WHEN documents = cardinality(ids) THEN NULL ELSE weighed_avgdl END;
    DELETE FROM event_bm25 WHERE event_id = ANY (ids);
END
$$;

-- Add events to the statistics and store their weights (with the weighed avgdl; the first ones set it).
CREATE OR REPLACE FUNCTION bm25_add(ids bigint[], tsvs tsvector[]) RETURNS void
    LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $$
DECLARE
    avgdl float8;
BEGIN
    INSERT INTO bm25_terms AS t (lexeme, df)
    SELECT lexeme, count(*) FROM bm25_postings(ids, tsvs) GROUP BY lexeme ORDER BY lexeme
    ON CONFLICT (lexeme) DO UPDATE SET df = t.df + EXCLUDED.df;
    -- The stats row is locked from here to commit: concurrent batches and bm25_reweigh take turns.
    UPDATE bm25_stats s SET documents = s.documents + cardinality(ids), total_length = s.total_length + added.n,
                            weighed_avgdl = coalesce(s.weighed_avgdl, nullif(s.total_length + added.n, 0)::float8
                                                                      / (s.documents + cardinality(ids)))
    FROM (SELECT coalesce(sum(tf), 0) AS n FROM bm25_postings(ids, tsvs)) added
    RETURNING s.weighed_avgdl INTO avgdl;
    INSERT INTO event_bm25 (event_id, length, term_ids, tfs, weights)
    SELECT e.id, coalesce(sum(p.tf), 0)::integer,
           coalesce(array_agg(t.id ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}'),
           coalesce(array_agg(p.tf ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}'),
           bm25_vector(coalesce(array_agg(t.id ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}'),
                       coalesce(array_agg(p.tf ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}'),
                       coalesce(sum(p.tf), 0)::integer, avgdl)
    FROM unnest(ids) AS e (id)
    LEFT JOIN bm25_postings(ids, tsvs) p ON p.event_id = e.id
    LEFT JOIN bm25_terms t ON t.lexeme = p.lexeme
    GROUP BY e.id;
END
$$;

CREATE OR REPLACE FUNCTION bm25_on_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET risk.scopes = '*'
    AS $$
BEGIN
    PERFORM bm25_add(array_agg(id), array_agg(search_tsv)) FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION bm25_on_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET risk.scopes = '*'
    AS $$
BEGIN
    PERFORM bm25_remove(array_agg(id), array_agg(search_tsv)) FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END
$$;

-- Only events whose searchable text changed are re-counted (a new status or amount changes nothing).
CREATE OR REPLACE FUNCTION bm25_on_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET risk.scopes = '*'
    AS $$
BEGIN
    PERFORM bm25_remove(array_agg(o.id), array_agg(o.search_tsv))
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.search_tsv IS DISTINCT FROM n.search_tsv
    HAVING count(*) > 0;
    PERFORM bm25_add(array_agg(n.id), array_agg(n.search_tsv))
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.search_tsv IS DISTINCT FROM n.search_tsv
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER bm25_insert AFTER INSERT ON risk_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bm25_on_insert();
CREATE OR REPLACE TRIGGER bm25_delete AFTER DELETE ON risk_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bm25_on_delete();
CREATE OR REPLACE TRIGGER bm25_update AFTER UPDATE ON risk_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bm25_on_update();

-- The query: its known lexemes (English config, as the events') OR-ed into a tsquery for the GIN index,
-- their idf as a sparsevec, and how many there are (0: no term of the text is in any event).
CREATE OR REPLACE FUNCTION bm25_query(keywords text)
    RETURNS TABLE (terms tsquery, weights sparsevec, known integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT ROWS 1
    AS $$ SELECT string_agg('''' || replace(replace(t.lexeme, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery,
                 format('{%s}/1000000000', coalesce(string_agg(
                     format('%s:%s', t.id, ln(1 + (s.documents - t.df + 0.5)::float8 / (t.df + 0.5))), ',' ORDER BY t.id),
                     ''))::sparsevec,
                 count(*)::integer
          FROM unnest(tsvector_to_array(to_tsvector('english', coalesce(keywords, '')))) AS q (lexeme)
          JOIN bm25_terms t ON t.lexeme = q.lexeme
          CROSS JOIN bm25_stats s $$;

-- The avgdl policy (see the top of this file): re-weigh every event when the true avgdl moved more than
-- `tolerance` (relative) from the one the weights used. Returns whether it did.
CREATE OR REPLACE FUNCTION bm25_reweigh(tolerance float8) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET risk.scopes = '*'
    AS $$
DECLARE
    current_avgdl float8;
    weighed float8;
BEGIN
    SELECT total_length::float8 / nullif(documents, 0), weighed_avgdl INTO current_avgdl, weighed
    FROM bm25_stats FOR UPDATE;
    IF coalesce(current_avgdl, 0) = 0 OR abs(current_avgdl / weighed - 1) <= tolerance THEN
        RETURN false;
    END IF;
    UPDATE event_bm25 SET weights = bm25_vector(term_ids, tfs, length, current_avgdl);
    UPDATE bm25_stats SET weighed_avgdl = current_avgdl;
    RETURN true;
END
$$;

-- Backfill the events stored before this migration, 10,000 at a time, then weigh them exactly.
DO $$
DECLARE
    ids bigint[];
    tsvs tsvector[];
BEGIN
    PERFORM set_config('risk.scopes', '*', true);  -- an owner bound by FORCE row-level security sees all
    LOOP
        SELECT array_agg(id), array_agg(search_tsv) INTO ids, tsvs
        FROM (SELECT ev.id, ev.search_tsv FROM risk_events ev
              WHERE NOT EXISTS (SELECT 1 FROM event_bm25 b WHERE b.event_id = ev.id)
              ORDER BY ev.id LIMIT 10000) missing;
        EXIT WHEN ids IS NULL;
        PERFORM bm25_add(ids, tsvs);
    END LOOP;
    PERFORM bm25_reweigh(0);
END
$$;

ALTER TABLE event_bm25 ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_bm25 FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS by_event ON event_bm25;
CREATE POLICY by_event ON event_bm25
    USING ((SELECT risk_all_scopes()) OR EXISTS (SELECT 1 FROM risk_events e WHERE e.id = event_id));

REVOKE ALL ON FUNCTION bm25_postings(bigint[], tsvector[]), bm25_remove(bigint[], tsvector[]),
    bm25_add(bigint[], tsvector[]), bm25_on_insert(), bm25_on_delete(), bm25_on_update(),
    bm25_query(text), bm25_reweigh(float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bm25_query(text), bm25_reweigh(float8) TO risk_app;
GRANT SELECT ON event_bm25 TO risk_app;
