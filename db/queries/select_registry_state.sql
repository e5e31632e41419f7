-- Whether the registry needs filling: events exist but the registry (or its newer part) is empty.
SELECT EXISTS (SELECT 1 FROM field_values)
       AND (EXISTS (SELECT 1 FROM subcategory_parents)
            OR NOT EXISTS (SELECT 1 FROM field_values WHERE field = 'subcategory')) AS filled,
       EXISTS (SELECT 1 FROM risk_events) AS has_events
