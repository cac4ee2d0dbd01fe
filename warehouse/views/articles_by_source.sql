CREATE OR REPLACE VIEW articles_by_source AS
WITH counted AS (
    SELECT source_id, count(*) AS articles, max(fetched_at) AS last_article_at
    FROM articles
    GROUP BY source_id
)
SELECT s.kind, s.uri, coalesce(c.articles, 0) AS articles, c.last_article_at
FROM sources AS s
LEFT JOIN counted AS c USING (source_id)
ORDER BY articles DESC, s.uri;
