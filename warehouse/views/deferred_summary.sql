CREATE OR REPLACE VIEW deferred_summary AS
SELECT reason, count(*) AS items, max(times_deferred) AS most_times_deferred,
       min(first_deferred_at) AS oldest, max(last_deferred_at) AS last_deferred_at
FROM deferred
GROUP BY reason
ORDER BY items DESC;
