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
