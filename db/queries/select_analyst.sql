-- An analyst's scopes. While "local" is the only analyst (the default single-user install, nothing set
-- up), everyone is seen through its scopes; once analysts are added, an unknown one has no row: no scope.
SELECT scopes FROM (
    SELECT scopes, 0 AS rank FROM analysts WHERE name = %(name)s
    UNION ALL
    SELECT scopes, 1 FROM analysts WHERE name = 'local' AND (SELECT count(*) FROM analysts) = 1
) found
ORDER BY rank
LIMIT 1
