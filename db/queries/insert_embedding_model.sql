INSERT INTO embedding_models (name, dimension) VALUES (%(name)s, %(dimension)s)
ON CONFLICT (name) DO NOTHING
