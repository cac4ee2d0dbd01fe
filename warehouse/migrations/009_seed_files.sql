-- Seed files as the run that stored them read them: a file of the same path, size, mtime and
-- content hash is not prepared again (counted unchanged). Only files stored as articles or
-- duplicates have a row: a file set aside is read again next run.

CREATE TABLE IF NOT EXISTS seed_files (
    raw_uri      VARCHAR PRIMARY KEY,            -- the document key, <folder>/<path>
    size         BIGINT NOT NULL CHECK (size >= 0),
    mtime_ns     BIGINT NOT NULL,                -- st_mtime_ns
    content_hash VARCHAR NOT NULL,               -- sha256 of the bytes, hex
    run_id       VARCHAR NOT NULL,               -- the run that stored this version
    stored_at    TIMESTAMPTZ NOT NULL
);
