-- IVFFlat search breadth for this transaction: `probes` lists first, then (iterative scan) more lists, up to
-- `max_probes`, while fewer rows than the query's LIMIT have passed its filters.
SELECT set_config('ivfflat.iterative_scan', 'relaxed_order', true),
       set_config('ivfflat.probes', %(probes)s, true),
       set_config('ivfflat.max_probes', %(max_probes)s, true)
