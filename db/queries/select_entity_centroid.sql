-- The mean vector of an entity's events under the filters: the seed of "like <entity>".
SELECT avg(em.embedding) AS centroid, array_agg(ev.id) AS ids
FROM risk_events ev
JOIN event_embeddings em ON em.event_id = ev.id AND em.model = %(model)s
WHERE ev.entity_id = %(entity_id)s
