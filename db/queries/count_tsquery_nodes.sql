-- How many nodes the keyword text's full-text query has: 0 when it holds no lexeme (empty, only
-- stop words or punctuation), so that there is nothing to match on.
SELECT numnode(websearch_to_tsquery('english', %(keywords)s)) AS nodes
