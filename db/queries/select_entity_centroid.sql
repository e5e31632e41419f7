-- The mean vector of an entity's events inside the plan's filter window ({where}, compiled by
-- assistant/filters.py): the seed of "like <entity>".
SELECT avg(em.embedding) AS centroid, array_agg(ev.id ORDER BY ev.id) AS ids
FROM risk_events ev
JOIN event_embeddings em ON em.event_id = ev.id AND em.model = %(model)s
WHERE ev.entity_id = %(entity_id)s AND {where}
