UPDATE embedding_models SET indexed_rows = %(rows)s WHERE name = %(model)s
