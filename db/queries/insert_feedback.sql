-- Record one analyst's verdict on an answer (see migrations/0006_feedback.sql).
INSERT INTO feedback (answer_id, analyst, rating, comment, source)
VALUES (%(answer_id)s, %(analyst)s, %(rating)s, %(comment)s, %(source)s)
RETURNING id
