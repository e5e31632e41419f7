-- Add an analyst or replace their scopes and mappings (the admin login; the app role only reads).
INSERT INTO analysts (name, scopes, slack_user, ui_login)
VALUES (%(name)s, %(scopes)s, %(slack_user)s, %(ui_login)s)
ON CONFLICT (name) DO UPDATE SET scopes = EXCLUDED.scopes, slack_user = EXCLUDED.slack_user,
                                 ui_login = EXCLUDED.ui_login
