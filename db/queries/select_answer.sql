-- One recorded answer by id.
SELECT * FROM answers WHERE id = %(id)s
