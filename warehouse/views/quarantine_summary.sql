CREATE OR REPLACE VIEW quarantine_summary AS
SELECT stage, reason, count(*) AS items, sum(times_seen) AS times_seen,
       max(last_seen_at) AS last_seen_at
FROM quarantine
GROUP BY stage, reason
ORDER BY items DESC;
