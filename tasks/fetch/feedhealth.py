"""Per-feed state across runs: validators, body hash, failures and the back-off they earn."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from tasks.fetch.http import Response
from tasks.records import Source
from warehouse import merge

COLUMNS = (
    "feed_uri",
    "source_id",
    "last_attempt_at",
    "last_success_at",
    "last_full_fetch_at",
    "consecutive_failures",
    "last_error",
    "etag",
    "last_modified",
    "body_hash",
    "next_attempt_at",
)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One feed's row in feed_health: what the next run needs to fetch it politely."""

    feed_uri: str
    source_id: str
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_full_fetch_at: datetime | None = None  # last fetch sent without validators
    consecutive_failures: int = 0
    last_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    next_attempt_at: datetime | None = None  # backed off until then; None: due

    @classmethod
    def new(cls, feed: Source) -> FeedHealth:
        """Return the state of a feed never fetched."""
        return cls(feed.uri, feed.source_id)

    def due(self, now: datetime) -> bool:
        """Return True unless the feed is backed off past now."""
        return self.next_attempt_at is None or now >= self.next_attempt_at

    def request_headers(self, now: datetime, revalidate: timedelta) -> dict[str, str]:
        """Return the conditional headers, or none when an unconditional fetch is due."""
        full = self.last_full_fetch_at
        if full is None or now - full >= revalidate:
            return {}  # validators can be stale or wrong: every so often ask for the body
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def succeeded(
        self, now: datetime, resp: Response, body_hash: str | None, unconditional: bool
    ) -> FeedHealth:
        """Return the state after a 200 or a 304."""
        return dataclasses.replace(
            self,
            last_attempt_at=now,
            last_success_at=now,
            consecutive_failures=0,
            last_error=None,
            next_attempt_at=None,
            last_full_fetch_at=now if unconditional else self.last_full_fetch_at,
            etag=resp.etag or self.etag if resp.status == 304 else resp.etag,
            last_modified=(
                resp.last_modified or self.last_modified if resp.status == 304 else resp.last_modified
            ),
            body_hash=body_hash or self.body_hash,
        )

    def failed(
        self, now: datetime, error: str, *, base: float, cap: float, retry_after: float | None = None
    ) -> FeedHealth:
        """Return the state after a failure: skipped until min(2^failures x base, cap) passed."""
        failures = self.consecutive_failures + 1
        wait = min(2**failures * base, cap)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return dataclasses.replace(
            self,
            last_attempt_at=now,
            consecutive_failures=failures,
            last_error=error[:500],
            next_attempt_at=now + timedelta(seconds=wait),
        )


def read_feed_health(con: duckdb.DuckDBPyConnection) -> dict[str, FeedHealth]:
    """Return every stored feed's state by feed URI; empty before the first run."""
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM feed_health").fetchall()
    return {row[0]: FeedHealth(*[_utc(v) for v in row]) for row in rows}  # type: ignore[arg-type]


def write_feed_health(con: duckdb.DuckDBPyConnection, rows: Iterable[FeedHealth]) -> None:
    """Upsert the feeds' states, one row per feed URI."""
    rows = list(rows)
    if not rows:
        return
    ts = pa.timestamp("us", tz="UTC")
    types = {c: ts for c in COLUMNS if c.endswith("_at")} | {"consecutive_failures": pa.int32()}
    table = pa.table({c: pa.array([getattr(r, c) for r in rows], types.get(c, pa.string())) for c in COLUMNS})
    updates = ", ".join(f"{c} = incoming.{c}" for c in COLUMNS[1:])
    merge(con, "feed_health", table, keys=("feed_uri",), update=updates)


def _utc(value: object) -> object:
    return value.astimezone(UTC) if isinstance(value, datetime) else value
