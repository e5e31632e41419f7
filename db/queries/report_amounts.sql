SELECT currency, count(amount) AS events, sum(amount) AS total,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) AS median, max(amount) AS max
FROM risk_events
WHERE id = ANY(%(ids)s) AND amount IS NOT NULL
GROUP BY currency
ORDER BY count(amount) DESC, currency
