-- Revisions: an article's earlier texts, kept when a re-fetch (or a re-extraction) changed its
-- cleaned text beyond NEWSFLOW_REVISION_MIN_CHANGE. `articles` holds the newest text; each row
-- here is a text it held before, numbered from 1 (the first text stored). Key (article_id, version).

CREATE TABLE IF NOT EXISTS article_versions (
    article_id   VARCHAR NOT NULL,     -- articles.article_id
    version      INTEGER NOT NULL,     -- 1: the first text stored, 2: the next, ...
    raw_uri      VARCHAR NOT NULL,
    title        VARCHAR,
    text         VARCHAR NOT NULL,     -- the text as it was then
    word_count   INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL, -- when that text was fetched
    run_id       VARCHAR NOT NULL,     -- the run that stored that text
    change_size  DOUBLE NOT NULL,      -- 1 - Jaccard of word 5-shingles, this text against its successor
    replaced_at  TIMESTAMPTZ NOT NULL,
    replaced_by  VARCHAR NOT NULL,     -- the run that replaced it
    reason       VARCHAR NOT NULL      -- refetch | reextract
);
