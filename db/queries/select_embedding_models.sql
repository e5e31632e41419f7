SELECT name, dimension FROM embedding_models ORDER BY name
