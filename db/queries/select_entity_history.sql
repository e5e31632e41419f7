-- Every stored event of the evidence's entities (not only the evidence): the history that an
-- event's amount and its gap since the entity's previous event are judged against.
SELECT id, entity_id, occurred_at, amount, currency
FROM risk_events
WHERE entity_id = ANY(%(entity_ids)s)
ORDER BY entity_id, occurred_at, id
