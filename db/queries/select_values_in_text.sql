-- Attribute values that appear in the question, exactly or approximately (pg_trgm word similarity:
-- the best match of the value's trigrams against any stretch of the question).
SELECT field, value, sum(events)::integer AS events, word_similarity(lower(value), lower(%(text)s)) AS score
FROM field_values
WHERE field LIKE 'attributes.%%' AND length(value) >= 4
  AND lower(value) <%% lower(%(text)s)
GROUP BY field, value
ORDER BY score DESC, events DESC
LIMIT 50
