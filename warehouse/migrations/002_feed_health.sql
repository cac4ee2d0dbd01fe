-- Per-feed fetch state: conditional-GET validators, the last body's hash, and failure back-off.
-- Written by the load from fetch_web's Fetched.feed_health; read before the next run's fetch.

CREATE TABLE IF NOT EXISTS feed_health (
    feed_uri             VARCHAR PRIMARY KEY,  -- sources.uri of a 'feed' source
    source_id            VARCHAR NOT NULL,     -- sources.source_id
    last_attempt_at      TIMESTAMPTZ,
    last_success_at      TIMESTAMPTZ,
    last_full_fetch_at   TIMESTAMPTZ,          -- last fetch sent without ETag/Last-Modified
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_error           VARCHAR,              -- '<reason>: <detail>' of the last failure
    etag                 VARCHAR,
    last_modified        VARCHAR,              -- the Last-Modified header, verbatim
    body_hash            VARCHAR,              -- sha256 of the last body parsed
    next_attempt_at      TIMESTAMPTZ           -- backed off until then; NULL: due every run
);
