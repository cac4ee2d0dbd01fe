-- Full-text search: an inverted index kept in the lake, appended by each run in the transaction
-- that adds its articles (readers see an article and its postings together), and BM25 computed
-- at query time by the `search(q)` table macro. DuckDB's fts extension cannot index a DuckLake
-- table, so its functions (`stem`, and `strip_accents` from the core) tokenize as fts does:
-- lower case, accents stripped, split on anything but letters, each word stemmed with the
-- Snowball stemmer of the article's language (`none` where fts has none). Readers load fts.

-- One row per article: its stemmer and its length in words (title and text).
CREATE TABLE IF NOT EXISTS search_docs (
    article_id VARCHAR NOT NULL,  -- key: articles.article_id
    stemmer    VARCHAR NOT NULL,  -- search_stemmer(articles.language)
    len        INTEGER NOT NULL   -- words in the title and the text
);

-- One row per article, field and term: how often the term occurs there.
CREATE TABLE IF NOT EXISTS search_terms (
    article_id VARCHAR NOT NULL,  -- key (article_id, field, term)
    field      VARCHAR NOT NULL,  -- title | text
    stemmer    VARCHAR NOT NULL,  -- as search_docs: a term matches query words stemmed alike
    term       VARCHAR NOT NULL,  -- the stemmed word
    tf         INTEGER NOT NULL   -- occurrences in the field
);

-- The words of a text, as fts's tokenizer finds them (split on every non-letter).
CREATE OR REPLACE MACRO search_words(s) AS
    list_filter(regexp_split_to_array(lower(strip_accents(coalesce(s, ''))), '[^\p{L}]+'), w -> w <> '');

-- The Snowball stemmer fts has for an ISO 639-1 language, else none.
CREATE OR REPLACE MACRO search_stemmer(language) AS CASE language
    WHEN 'ar' THEN 'arabic' WHEN 'eu' THEN 'basque' WHEN 'ca' THEN 'catalan'
    WHEN 'da' THEN 'danish' WHEN 'nl' THEN 'dutch' WHEN 'en' THEN 'english'
    WHEN 'fi' THEN 'finnish' WHEN 'fr' THEN 'french' WHEN 'de' THEN 'german'
    WHEN 'el' THEN 'greek' WHEN 'hi' THEN 'hindi' WHEN 'hu' THEN 'hungarian'
    WHEN 'id' THEN 'indonesian' WHEN 'ga' THEN 'irish' WHEN 'it' THEN 'italian'
    WHEN 'lt' THEN 'lithuanian' WHEN 'ne' THEN 'nepali' WHEN 'no' THEN 'norwegian'
    WHEN 'nb' THEN 'norwegian' WHEN 'nn' THEN 'norwegian' WHEN 'pt' THEN 'portuguese'
    WHEN 'ro' THEN 'romanian' WHEN 'ru' THEN 'russian' WHEN 'sr' THEN 'serbian'
    WHEN 'es' THEN 'spanish' WHEN 'sv' THEN 'swedish' WHEN 'ta' THEN 'tamil'
    WHEN 'tr' THEN 'turkish' ELSE 'none' END;

-- Articles ranked by BM25 (k1 = 1.2, b = 0.75, fts's formula) over title and text, for the
-- words of q (any of them). Each query word is stemmed with every stemmer in use and matched
-- against the terms of the articles of that stemmer; only the postings of those terms are read.
-- A query word's document frequency counts the articles it matches in any language; words
-- stemmed alike count once, as in fts.
--   SELECT a.title, s.score FROM search('climat') AS s JOIN articles AS a USING (article_id)
--   ORDER BY s.score DESC;
CREATE OR REPLACE MACRO search(q) AS TABLE
WITH stats AS (
    SELECT count(*) AS n, avg(len) AS avgdl FROM search_docs
),
wanted AS (
    SELECT s.stemmer, stem(w.word, s.stemmer) AS term, min(w.word) AS word
    FROM (SELECT DISTINCT unnest(search_words(q)) AS word) AS w,
         (SELECT DISTINCT stemmer FROM search_docs) AS s
    GROUP BY ALL
),
hits AS (
    SELECT w.word, t.article_id, sum(t.tf) AS tf
    FROM search_terms AS t
    JOIN wanted AS w ON t.term = w.term AND t.stemmer = w.stemmer
    GROUP BY w.word, t.article_id
),
df AS (
    SELECT word, count(*) AS df FROM hits GROUP BY word
)
SELECT h.article_id,
       sum(log((stats.n - df.df + 0.5) / (df.df + 0.5) + 1)
           * h.tf * (1.2 + 1) / (h.tf + 1.2 * (1 - 0.75 + 0.75 * d.len / stats.avgdl))) AS score
FROM hits AS h
JOIN df USING (word)
JOIN search_docs AS d USING (article_id)
CROSS JOIN stats
GROUP BY h.article_id;

-- The rows of search_docs and search_terms for the articles of a table (by name): each run
-- indexes its new articles with them (warehouse.search.index_articles), in its transaction.
CREATE OR REPLACE MACRO search_docs_of(articles_table) AS TABLE
SELECT article_id, search_stemmer(language) AS stemmer,
       (len(search_words(title)) + len(search_words(text)))::INTEGER AS len
FROM query_table(articles_table);

CREATE OR REPLACE MACRO search_terms_of(articles_table) AS TABLE
SELECT article_id, field, stemmer, stem(word, stemmer) AS term, count(*)::INTEGER AS tf
FROM (
    SELECT article_id, 'title' AS field, search_stemmer(language) AS stemmer,
           unnest(search_words(title)) AS word
    FROM query_table(articles_table)
    UNION ALL
    SELECT article_id, 'text' AS field, search_stemmer(language) AS stemmer,
           unnest(search_words(text)) AS word
    FROM query_table(articles_table)
)
GROUP BY article_id, field, stemmer, term
ORDER BY term;  -- files sorted by term: a query's term filter skips most row groups

-- The articles stored before this migration: indexed once, here.
INSERT INTO search_docs BY NAME SELECT * FROM search_docs_of('articles');
INSERT INTO search_terms BY NAME SELECT * FROM search_terms_of('articles');
