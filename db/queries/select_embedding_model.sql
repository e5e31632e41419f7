SELECT name, dimension FROM embedding_models WHERE name = %(name)s
