-- Statistics of numeric attributes over the events {where} selects (compiled by assistant/filters.py):
-- each attribute in %(fields)s, and the change of each <name>_before / <name>_after pair (a score drop).
WITH scoped AS (
    SELECT ev.attributes FROM risk_events ev WHERE {where}
),
observed AS (
    SELECT f.field, (s.attributes ->> f.field)::float8 AS x
    FROM scoped s, unnest(%(fields)s::text[]) AS f(field)
    WHERE jsonb_typeof(s.attributes -> f.field) = 'number'
    UNION ALL
    SELECT p.name || ' change', (s.attributes ->> p.after)::float8 - (s.attributes ->> p.before)::float8
    FROM scoped s, unnest(%(pair_names)s::text[], %(befores)s::text[], %(afters)s::text[]) AS p(name, before, after)
    WHERE jsonb_typeof(s.attributes -> p.before) = 'number' AND jsonb_typeof(s.attributes -> p.after) = 'number'
)
SELECT field, count(*) AS events, avg(x) AS mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS median, min(x) AS min, max(x) AS max
FROM observed
GROUP BY field
ORDER BY field
