-- The writer's private index: the keys deduplication looks up, in a DuckDB file only the writer
-- opens. Derived from the lake: rebuilt from it when missing or behind.
--
-- No indexes, no keys: the lookups join a batch's keys against these columns, and DuckDB plans
-- such joins as hash joins over a scan, never as ART index probes (EXPLAIN shows it). An ART
-- index is never read, yet random inserts dirty its blocks all over: the one on the band keys
-- made each run write 315 MB at 100k stored articles, 765 MB at 300k. Without them a run only
-- appends. Keys stay unique because the writer (one at a time) stores only what its lookups
-- found new, and a catch-up replaces an article's keys.

CREATE TABLE IF NOT EXISTS article_keys (
    article_id    VARCHAR NOT NULL,
    raw_uri       VARCHAR NOT NULL,
    canonical_url VARCHAR,
    guid          VARCHAR,
    content_hash  VARCHAR NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS duplicate_keys (
    duplicate_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS signature_keys (
    article_id VARCHAR NOT NULL,
    signature  BLOB NOT NULL,
    shingles   INTEGER
);

CREATE TABLE IF NOT EXISTS lsh_bands (
    band_hash  BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);

-- The last lake snapshot whose rows are in this index (one row).
CREATE TABLE IF NOT EXISTS absorbed (
    snapshot_id BIGINT NOT NULL
);
