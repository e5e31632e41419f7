COPY staging_embeddings (source_id, embedding) FROM STDIN WITH (FORMAT BINARY)
