CREATE OR REPLACE VIEW duplicate_pairs AS
SELECT d.kind, d.similarity, d.containment, d.duplicate_id, d.duplicate_of,
       a.title AS original_title, a.raw_uri AS original_uri, d.detected_at, d.run_id
FROM duplicates AS d
LEFT JOIN articles AS a ON a.article_id = d.duplicate_of
ORDER BY d.detected_at DESC;
