-- Which categories each stored subcategory occurs under, with how many events: the planner drops a
-- category that no named subcategory is stored under (the two filters together would match nothing).
-- Part of the registry: ingestion refreshes it together with field_values.

CREATE TABLE IF NOT EXISTS subcategory_parents (
    subcategory text    NOT NULL,
    category    text    NOT NULL,
    events      integer NOT NULL,
    PRIMARY KEY (subcategory, category)
);
