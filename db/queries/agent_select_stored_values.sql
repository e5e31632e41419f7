-- Stored values of the given registry fields: what a filter proposed by the LLM may name.
SELECT field, value FROM field_values WHERE field = ANY(%(fields)s)
