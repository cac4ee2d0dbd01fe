CREATE OR REPLACE VIEW source_status AS
WITH known AS (
    SELECT kind, uri, source_id FROM subscriptions
    UNION
    SELECT kind, uri, source_id FROM sources WHERE kind IN ('feed', 'sitemap', 'page')
),
seen AS (
    SELECT source_id, raw_uri AS uri, 'stored' AS outcome FROM articles
    UNION ALL SELECT source_id, duplicate_id, 'duplicate' FROM duplicates
    UNION ALL SELECT source_id, uri, 'waiting' FROM deferred
    UNION ALL SELECT source_id, uri, 'set aside' FROM quarantine
),
counted AS (
    SELECT source_id, count(DISTINCT uri) AS entries_seen,
           count(DISTINCT uri) FILTER (WHERE outcome = 'stored') AS articles_stored
    FROM seen
    GROUP BY source_id
),
last_run AS (
    SELECT counts FROM runs WHERE status = 'completed' ORDER BY finished_at DESC LIMIT 1
),
last_states AS (
    SELECT e.key AS uri, e.value ->> '$' AS last_state
    FROM last_run, json_each(last_run.counts -> 'feeds') AS e
)
SELECT k.kind, k.uri, sub.name, sub.uri IS NOT NULL AS subscribed, st.last_state,
       h.last_success_at, coalesce(h.consecutive_failures, 0) AS consecutive_failures,
       h.next_attempt_at, coalesce(c.entries_seen, 0) AS entries_seen,
       coalesce(c.articles_stored, 0) AS articles_stored, h.last_error, sub.site, sub.added_at
FROM known AS k
LEFT JOIN subscriptions AS sub ON sub.uri = k.uri
LEFT JOIN feed_health AS h ON h.feed_uri = k.uri
LEFT JOIN counted AS c ON c.source_id = k.source_id
LEFT JOIN last_states AS st ON st.uri = k.uri
QUALIFY row_number() OVER (PARTITION BY k.uri ORDER BY sub.uri IS NOT NULL DESC, k.kind) = 1
ORDER BY k.kind, k.uri;
