CREATE OR REPLACE VIEW changed_stories AS
SELECT
    a.article_id,
    a.title,
    a.url,
    s.uri AS source_uri,
    count(*) + 1 AS versions,
    min(v.fetched_at) AS first_fetched_at,
    max(v.replaced_at) AS last_revised_at,
    arg_max(v.change_size, v.version) AS last_change,
    max(v.change_size) AS largest_change,
    arg_max(v.reason, v.version) AS last_reason,
    a.word_count,
    a.run_id
FROM article_versions AS v
JOIN articles AS a USING (article_id)
LEFT JOIN sources AS s ON s.source_id = a.source_id
GROUP BY ALL
ORDER BY last_revised_at DESC, a.article_id;
