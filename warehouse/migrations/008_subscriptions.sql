-- Sitemaps become a source kind, and users' subscriptions (newsflow sources add) are kept apart
-- from `sources`, which stays the provenance of what runs read (one-off --feed/--url included).
-- DuckDB cannot alter a CHECK constraint: the table is recreated with its rows.

CREATE TABLE sources_008 (
    source_id     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL CHECK (kind IN ('seeds', 'feed', 'page', 'sitemap')),
    uri           VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_run_id   VARCHAR
);
INSERT INTO sources_008 SELECT source_id, kind, uri, first_seen_at, last_run_id FROM sources;
DROP TABLE sources;
ALTER TABLE sources_008 RENAME TO sources;

-- Read by every run with seeds/sources.toml; a URL in both is read as sources.toml lists it.
CREATE TABLE IF NOT EXISTS subscriptions (
    uri       VARCHAR PRIMARY KEY,
    kind      VARCHAR NOT NULL CHECK (kind IN ('feed', 'sitemap', 'page')),
    source_id VARCHAR NOT NULL,  -- sources.source_id once a run read it
    name      VARCHAR,
    site      VARCHAR,           -- the site it was discovered on, for `sources add <site>`
    added_at  TIMESTAMPTZ NOT NULL
);
