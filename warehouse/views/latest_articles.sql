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
