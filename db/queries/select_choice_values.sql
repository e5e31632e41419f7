-- The stored values of low-cardinality fields other than category and subcategory (status and
-- attributes with at most %(max_values)s values, numbers excluded): what the planner reads by a
-- value's words or meaning ("sent by post" -> submitted_via = Postal mail).
SELECT DISTINCT fv.field, fv.value
FROM field_values fv
WHERE (fv.field = 'status' OR fv.field LIKE 'attributes.%%')
  AND fv.field NOT IN (SELECT field FROM numeric_fields)
  AND fv.field IN (SELECT field FROM field_values GROUP BY field HAVING count(DISTINCT value) <= %(max_values)s)
ORDER BY fv.field, fv.value
