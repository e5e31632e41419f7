-- The pgvector smoke test, run before the first real query (assistant/selfcheck.py) and, in the
-- tests, through `postgres --single` on an emulated CPU without AVX-512. A pgvector built for the
-- wrong CPU dies in one of these steps (signal 4, illegal instruction) rather than in production.
-- Statements are separated by a blank line (what `postgres --single -j` reads); each carries
-- its step name, used in the self-check's error message.

-- step: load pgvector (inside the self-check's transaction, which is rolled back)
CREATE EXTENSION IF NOT EXISTS vector;

-- step: create a temporary table of 384-dimension vectors
CREATE TEMPORARY TABLE risk_smoke (id integer PRIMARY KEY, v vector(384));

-- step: insert 384-dimension vectors
INSERT INTO risk_smoke (id, v)
SELECT i, array_agg(sin(i * 0.37 + d * 0.11 + (i % 7) * d * 0.013) ORDER BY d)::vector(384)
FROM generate_series(1, 100) AS i, generate_series(1, 384) AS d
GROUP BY i;

-- step: order by cosine, L2, inner-product and Hamming distance, and through halfvec
CREATE TEMPORARY TABLE risk_smoke_exact AS
SELECT (SELECT array_agg(id) FROM (SELECT id FROM risk_smoke
                                   ORDER BY v <=> (SELECT v FROM risk_smoke WHERE id = 42), id LIMIT 5) AS n) AS cosine,
       (SELECT min(v <-> (SELECT v FROM risk_smoke WHERE id = 42)) FROM risk_smoke) AS l2_self,
       (SELECT (v <#> v) < 0 FROM risk_smoke WHERE id = 42) AS inner_product,
       (SELECT min(binary_quantize(v) <~> binary_quantize((SELECT v FROM risk_smoke WHERE id = 42)))
        FROM risk_smoke) AS hamming_self,
       (SELECT id FROM risk_smoke ORDER BY v::halfvec(384) <=> (SELECT v::halfvec(384) FROM risk_smoke WHERE id = 42)
        LIMIT 1) AS halfvec_nearest;

-- step: build an HNSW index
CREATE INDEX risk_smoke_hnsw ON risk_smoke USING hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64);

-- step: build an IVFFlat index over halfvec
CREATE INDEX risk_smoke_ivf ON risk_smoke USING ivfflat ((v::halfvec(384)) halfvec_cosine_ops) WITH (lists = 4);

-- step: search the HNSW and IVFFlat indexes
SET enable_seqscan = off;

-- step: probe every IVFFlat list
SET ivfflat.probes = 4;

-- step: compare the index's nearest neighbours with the exact ones
SELECT (cosine[1] = 42
        AND l2_self = 0
        AND inner_product
        AND hamming_self = 0
        AND halfvec_nearest = 42
        AND (SELECT array_agg(id) FROM (SELECT id FROM risk_smoke
                                        ORDER BY v <=> (SELECT v FROM risk_smoke WHERE id = 42) LIMIT 5) AS n)
            = cosine
        AND (SELECT id FROM risk_smoke
             ORDER BY v::halfvec(384) <=> (SELECT v::halfvec(384) FROM risk_smoke WHERE id = 42) LIMIT 1) = 42) AS smoke_ok
FROM risk_smoke_exact;
