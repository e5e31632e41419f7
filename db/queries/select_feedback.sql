-- Every verdict on one answer, oldest first.
SELECT id, answer_id::text AS answer_id, analyst, rating, comment, source, given_at
FROM feedback
WHERE answer_id = %(answer_id)s
ORDER BY given_at, id
