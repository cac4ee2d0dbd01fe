-- Read models for everyday questions; recreated on every run, so they always match the tables.

CREATE OR REPLACE VIEW latest_articles AS
WITH ranked AS (
    SELECT a.*, s.kind AS source_kind, s.uri AS source_uri
    FROM articles AS a
    LEFT JOIN sources AS s USING (source_id)
)
SELECT article_id, coalesce(published_at, fetched_at) AS dated_at, published_at, fetched_at,
       title, author, language, word_count, source_kind, source_uri, url, run_id
FROM ranked
ORDER BY dated_at DESC, article_id;

CREATE OR REPLACE VIEW articles_per_day AS
WITH dated AS (
    SELECT CAST(coalesce(published_at, fetched_at) AS DATE) AS day, language, source_id
    FROM articles
)
SELECT d.day, d.language, s.kind AS source_kind, s.uri AS source_uri, count(*) AS articles
FROM dated AS d
LEFT JOIN sources AS s USING (source_id)
GROUP BY ALL
ORDER BY d.day DESC, articles DESC;

CREATE OR REPLACE VIEW articles_by_language AS
SELECT language, count(*) AS articles, round(avg(language_prob), 3) AS avg_prob,
       sum(word_count) AS words
FROM articles
GROUP BY language
ORDER BY articles DESC;

CREATE OR REPLACE VIEW duplicate_pairs AS
SELECT d.kind, d.similarity, d.duplicate_id, d.duplicate_of, a.title AS original_title,
       a.raw_uri AS original_uri, d.detected_at, d.run_id
FROM duplicates AS d
LEFT JOIN articles AS a ON a.article_id = d.duplicate_of
ORDER BY d.detected_at DESC;

CREATE OR REPLACE VIEW quarantine_summary AS
SELECT stage, reason, count(*) AS items, sum(times_seen) AS times_seen,
       max(last_seen_at) AS last_seen_at
FROM quarantine
GROUP BY stage, reason
ORDER BY items DESC;

CREATE OR REPLACE VIEW run_history AS
SELECT run_id, flow_run_id, status, started_at, finished_at,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds,
       documents, new_articles, unchanged, duplicates, quarantined,
       counts ->> 'error' AS error
FROM runs
ORDER BY started_at DESC;
