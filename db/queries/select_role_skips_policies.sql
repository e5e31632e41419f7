-- Whether the logged-in role skips row-level security (a superuser or BYPASSRLS).
SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user
