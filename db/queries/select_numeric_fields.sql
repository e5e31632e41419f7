-- Attribute keys whose values are all numbers: what a number in a question may be bound to.
SELECT DISTINCT field FROM numeric_fields ORDER BY field
