SELECT em.embedding FROM event_embeddings em WHERE em.event_id = %(id)s AND em.model = %(model)s
