CREATE OR REPLACE VIEW run_history AS
SELECT run_id, flow_run_id, status, started_at, finished_at,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds,
       CAST(counts ->> 'discovered' AS INTEGER) AS discovered,
       new_articles, duplicates, unchanged, quarantined,
       CAST(counts ->> 'deferred' AS INTEGER) AS deferred,
       documents,
       counts ->> 'error' AS error
FROM runs
ORDER BY started_at DESC;
