-- Each stored subcategory with the categories it occurs under.
SELECT subcategory, category FROM subcategory_parents
