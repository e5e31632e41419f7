SELECT count(*) AS n FROM risk_events
