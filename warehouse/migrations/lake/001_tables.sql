-- The tables users query, in the DuckLake catalog (Parquet files beside it). DuckLake has no
-- keys, indexes, CHECK constraints, sequences or ENUM types: keys are kept by the writer (one
-- process at a time, MERGE for upserts) and documented here; the dedup lookups use the writer's
-- private index (warehouse/migrations/index/).

CREATE TABLE IF NOT EXISTS sources (
    source_id     VARCHAR NOT NULL,  -- key
    kind          VARCHAR NOT NULL,  -- seeds | feed | sitemap | page
    uri           VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_run_id   VARCHAR
);

CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR NOT NULL,  -- key
    flow_run_id   VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,  -- running | completed | failed
    documents     INTEGER,           -- documents fetched or read
    new_articles  INTEGER,
    unchanged     INTEGER,           -- seen in an earlier run under the same key: nothing to do
    duplicates    INTEGER,
    quarantined   INTEGER,
    counts        JSON,              -- the full summary: per stage, language, duplicate kind, reason
    pid           INTEGER,
    host          VARCHAR,
    load_snapshot BIGINT             -- the lake snapshot that holds the run's rows: AT (VERSION => n)
);

CREATE TABLE IF NOT EXISTS articles (
    article_id      VARCHAR NOT NULL,  -- key: blake2b of the canonical URL, else of the content hash
    source_id       VARCHAR NOT NULL,  -- sources.source_id
    raw_uri         VARCHAR NOT NULL,  -- unique: the URL asked for, or <folder>/<file>
    url             VARCHAR,           -- the URL answered, after redirects
    canonical_url   VARCHAR,
    guid            VARCHAR,
    title           VARCHAR,
    author          VARCHAR,
    published_at    TIMESTAMPTZ,
    language        VARCHAR NOT NULL,
    language_prob   DOUBLE NOT NULL,   -- 0..1
    text            VARCHAR NOT NULL,
    word_count      INTEGER NOT NULL,
    content_hash    VARCHAR NOT NULL,
    site_name       VARCHAR,
    description     VARCHAR,
    tags            VARCHAR[],
    fetched_at      TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR NOT NULL,  -- runs.run_id
    date_source     VARCHAR,           -- feed | page | url: where published_at came from
    encoding        VARCHAR,
    encoding_source VARCHAR,
    replaced_chars  INTEGER
);

CREATE TABLE IF NOT EXISTS duplicates (
    duplicate_id VARCHAR NOT NULL,  -- key: the incoming copy, its URL or <folder>/<file>
    duplicate_of VARCHAR NOT NULL,  -- articles.article_id
    kind         VARCHAR NOT NULL,  -- url | guid | content | near
    similarity   DOUBLE NOT NULL,
    source_id    VARCHAR NOT NULL,
    detected_at  TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL,
    containment  DOUBLE
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id       VARCHAR NOT NULL,  -- the run that first set it aside
    source_id    VARCHAR NOT NULL,
    uri          VARCHAR NOT NULL,  -- key (uri, stage, reason)
    stage        VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    detail       VARCHAR,
    "at"         TIMESTAMPTZ NOT NULL,  -- quoted: AT is a keyword in DuckDB
    last_run_id  VARCHAR NOT NULL,  -- the latest run that set it aside again
    last_seen_at TIMESTAMPTZ NOT NULL,
    times_seen   INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS raw_documents (
    raw_uri         VARCHAR NOT NULL,  -- key
    article_id      VARCHAR NOT NULL,
    media_type      VARCHAR NOT NULL,
    final_url       VARCHAR,
    fetched_at      TIMESTAMPTZ NOT NULL,
    body_zlib       BLOB NOT NULL,
    encoding        VARCHAR,
    encoding_source VARCHAR,
    replaced_chars  INTEGER
);

-- MinHash signatures: the writer's index is rebuilt from these when it is missing or behind.
CREATE TABLE IF NOT EXISTS signatures (
    article_id VARCHAR NOT NULL,  -- key
    signature  BLOB NOT NULL,
    shingles   INTEGER
);

CREATE TABLE IF NOT EXISTS feed_health (
    feed_uri             VARCHAR NOT NULL,  -- key: sources.uri of a feed or sitemap source
    source_id            VARCHAR NOT NULL,  -- sources.source_id
    last_attempt_at      TIMESTAMPTZ,
    last_success_at      TIMESTAMPTZ,
    last_full_fetch_at   TIMESTAMPTZ,       -- last fetch sent without ETag/Last-Modified
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           VARCHAR,           -- '<reason>: <detail>' of the last failure
    etag                 VARCHAR,
    last_modified        VARCHAR,           -- the Last-Modified header, verbatim
    body_hash            VARCHAR,           -- sha256 of the last body parsed
    next_attempt_at      TIMESTAMPTZ        -- backed off until then; NULL: due every run
);

CREATE TABLE IF NOT EXISTS deferred (
    uri               VARCHAR NOT NULL,  -- key: the page URL
    source_id         VARCHAR NOT NULL,  -- sources.source_id
    reason            VARCHAR NOT NULL,  -- entry_cap, retry_later, robots_unavailable, http_503, ...
    detail            VARCHAR,
    entry             JSON,              -- the feed entry (guid, title, author, published, summary)
    first_run_id      VARCHAR NOT NULL,
    last_run_id       VARCHAR NOT NULL,
    first_deferred_at TIMESTAMPTZ NOT NULL,
    last_deferred_at  TIMESTAMPTZ NOT NULL,
    times_deferred    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS subscriptions (
    uri       VARCHAR NOT NULL,  -- key
    kind      VARCHAR NOT NULL,  -- feed | sitemap | page
    source_id VARCHAR NOT NULL,  -- sources.source_id once a run read it
    name      VARCHAR,
    site      VARCHAR,           -- the site it was discovered on, for `sources add <site>`
    added_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS seed_files (
    raw_uri      VARCHAR NOT NULL,  -- key: the document key, <folder>/<path>
    size         BIGINT NOT NULL,
    mtime_ns     BIGINT NOT NULL,   -- st_mtime_ns
    content_hash VARCHAR NOT NULL,  -- sha256 of the bytes, hex
    run_id       VARCHAR NOT NULL,  -- the run that stored this version
    stored_at    TIMESTAMPTZ NOT NULL
);
