-- The warehouse's tables: what users query, and what deduplication looks up across runs.
-- Foreign keys are documented, not declared: DuckDB forbids updating a referenced row.

CREATE TABLE IF NOT EXISTS sources (
    source_id     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL CHECK (kind IN ('seeds', 'feed', 'page')),
    uri           VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_run_id   VARCHAR
);

CREATE TABLE IF NOT EXISTS runs (
    run_id       VARCHAR PRIMARY KEY,
    flow_run_id  VARCHAR,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    status       VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    documents    INTEGER,  -- documents fetched or read
    new_articles INTEGER,
    unchanged    INTEGER,  -- seen in an earlier run under the same key: nothing to do
    duplicates   INTEGER,
    quarantined  INTEGER,
    counts       JSON      -- the full summary: per stage, language, duplicate kind, reason
);

CREATE TABLE IF NOT EXISTS articles (
    article_id    VARCHAR PRIMARY KEY,  -- blake2b of the canonical URL, else of the content hash
    source_id     VARCHAR NOT NULL,     -- sources.source_id
    raw_uri       VARCHAR NOT NULL UNIQUE,  -- the URL asked for, or <folder>/<file>
    url           VARCHAR,              -- the URL answered, after redirects
    canonical_url VARCHAR,
    guid          VARCHAR,
    title         VARCHAR,
    author        VARCHAR,
    published_at  TIMESTAMPTZ,
    language      VARCHAR NOT NULL,
    language_prob DOUBLE NOT NULL CHECK (language_prob BETWEEN 0 AND 1),
    text          VARCHAR NOT NULL,
    word_count    INTEGER NOT NULL CHECK (word_count >= 0),
    content_hash  VARCHAR NOT NULL,
    site_name     VARCHAR,
    description   VARCHAR,
    tags          VARCHAR[],
    fetched_at    TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR NOT NULL      -- runs.run_id
);
CREATE INDEX IF NOT EXISTS articles_canonical_url ON articles (canonical_url);
CREATE INDEX IF NOT EXISTS articles_guid ON articles (guid);
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles (content_hash);

CREATE TABLE IF NOT EXISTS duplicates (
    duplicate_id VARCHAR PRIMARY KEY,  -- the incoming copy: its URL or <folder>/<file>
    duplicate_of VARCHAR NOT NULL,     -- articles.article_id
    kind         VARCHAR NOT NULL CHECK (kind IN ('url', 'guid', 'content', 'near')),
    similarity   DOUBLE NOT NULL CHECK (similarity BETWEEN 0 AND 1),
    source_id    VARCHAR NOT NULL,
    detected_at  TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id       VARCHAR NOT NULL,  -- the run that first set it aside
    source_id    VARCHAR NOT NULL,
    uri          VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    detail       VARCHAR,
    "at"         TIMESTAMPTZ NOT NULL,  -- quoted: AT is a keyword in DuckDB
    last_run_id  VARCHAR NOT NULL,  -- the latest run that set it aside again
    last_seen_at TIMESTAMPTZ NOT NULL,
    times_seen   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (uri, stage, reason)
);

-- The documents as fetched, zlib-compressed, so articles can be re-extracted without refetching.
CREATE TABLE IF NOT EXISTS raw_documents (
    raw_uri    VARCHAR PRIMARY KEY,
    article_id VARCHAR NOT NULL,
    media_type VARCHAR NOT NULL,
    final_url  VARCHAR,
    fetched_at TIMESTAMPTZ NOT NULL,
    body_zlib  BLOB NOT NULL
);

-- MinHash signatures and their LSH band keys: near-duplicate candidates come from an
-- indexed join on band_hash, never from a scan of every stored article.
CREATE TABLE IF NOT EXISTS signatures (
    article_id VARCHAR PRIMARY KEY,
    signature  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS lsh_bands (
    band_hash  BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS lsh_bands_band_hash ON lsh_bands (band_hash);
