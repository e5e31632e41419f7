-- Whether an answer is recorded under this id (a malformed id is caught before it is sent).
SELECT 1 FROM answers WHERE id = %(id)s
