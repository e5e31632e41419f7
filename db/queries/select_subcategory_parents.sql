-- Each stored subcategory with the categories it occurs under.
SELECT DISTINCT subcategory, category FROM subcategory_parents
