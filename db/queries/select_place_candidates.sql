-- The stored values of every attribute and of currency: the planner decides which fields hold places
-- (state, country, currency) and reads a place written in full against a stored code, and the reverse.
SELECT DISTINCT field, value FROM field_values
WHERE field LIKE 'attributes.%%' OR field = 'currency'
ORDER BY field, value
