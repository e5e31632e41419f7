-- The analyst a UI login or Slack user maps to.
SELECT name FROM analysts
WHERE (%(front)s = 'ui' AND ui_login = %(user)s) OR (%(front)s = 'slack' AND slack_user = %(user)s)
