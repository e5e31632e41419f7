-- One search's settings, for the rest of its transaction only: memory for its sorts and the IVFFlat breadth
-- (`probes` lists first, then, iterative scan, more lists up to `max_probes` while fewer rows than the
-- query's LIMIT have passed its filters). One statement: one round trip.
SELECT set_config('work_mem', %(work_mem)s, true),
       set_config('ivfflat.iterative_scan', 'relaxed_order', true),
       set_config('ivfflat.probes', %(probes)s, true),
       set_config('ivfflat.max_probes', %(max_probes)s, true)
