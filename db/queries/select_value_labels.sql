-- The labels declared for stored values of the given fields.
SELECT field, value, label FROM value_labels WHERE field = ANY(%(fields)s) ORDER BY field, value
