-- Every analyst with their scopes and mappings.
SELECT name, scopes, slack_user, ui_login, added_at FROM analysts ORDER BY name
