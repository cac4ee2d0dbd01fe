CREATE OR REPLACE VIEW articles_by_language AS
SELECT language, count(*) AS articles, round(avg(language_prob), 3) AS avg_prob,
       sum(word_count) AS words
FROM articles
GROUP BY language
ORDER BY articles DESC;
