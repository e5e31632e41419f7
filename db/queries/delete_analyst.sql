-- Remove an analyst (the admin login).
DELETE FROM analysts WHERE name = %(name)s
