-- Items a run found but left for a later one: past a feed's entry cap, or a fetch fault that
-- may pass (Retry-After, robots.txt unreachable, 5xx, timeouts). The next run that reads the
-- item's source takes them first, even when the feed itself is unchanged; a row goes away when
-- its item reaches any other outcome.

CREATE TABLE IF NOT EXISTS deferred (
    uri               VARCHAR PRIMARY KEY,  -- the page URL
    source_id         VARCHAR NOT NULL,     -- sources.source_id
    reason            VARCHAR NOT NULL,     -- entry_cap, retry_later, robots_unavailable, http_503, ...
    detail            VARCHAR,
    entry             JSON,                 -- the feed entry (guid, title, author, published, summary)
    first_run_id      VARCHAR NOT NULL,
    last_run_id       VARCHAR NOT NULL,
    first_deferred_at TIMESTAMPTZ NOT NULL,
    last_deferred_at  TIMESTAMPTZ NOT NULL,
    times_deferred    INTEGER NOT NULL DEFAULT 1 CHECK (times_deferred >= 1)
);
CREATE INDEX IF NOT EXISTS deferred_source_id ON deferred (source_id);
