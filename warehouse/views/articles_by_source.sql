CREATE OR REPLACE VIEW articles_by_source AS
WITH counted AS (
    SELECT source_id, count(*) AS articles, max(fetched_at) AS last_article_at
    FROM articles
    GROUP BY source_id
)
SELECT s.kind, s.uri, coalesce(c.articles, 0) AS articles, c.last_article_at
FROM sources AS s
LEFT JOIN counted AS c USING (source_id)
-- a one-off --feed/--url that stored nothing is not listed for ever
WHERE c.articles IS NOT NULL OR s.uri IN (SELECT uri FROM subscriptions)
ORDER BY articles DESC, s.uri;
