INSERT INTO schema_migrations (version, name) VALUES (%s, %s)
