"""Subscriptions: the feeds, sitemaps and pages users add with `newsflow sources`, in the warehouse."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal, cast
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

import warehouse
from tasks.fetch.faults import FetchError
from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.listing import explained, fetch_feed
from tasks.fetch.pages import PAGE_TYPES
from tasks.fetch.polite import Fetcher
from tasks.records import EntryMeta, Quarantined, Source, SourceKind
from warehouse import merge
from warehouse.writer import Warehouse

AddKind = Literal["feed", "sitemap", "site", "page"]
SUBSCRIBED_KINDS = ("feed", "sitemap", "page")


class NotAUrl(ValueError):
    """A source given by the user is not an http(s) URL with a host."""


def check_url(url: str) -> str:
    """Return the URL when it is an absolute http(s) URL with a host; raise NotAUrl otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
    except ValueError as exc:
        raise NotAUrl(f"not a URL: {url!r} ({exc})") from exc
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise NotAUrl(f"not an http(s) URL: {url!r}")
    return url


def guess_kind(url: str) -> AddKind:
    """Return the kind a URL most likely is: a site for a home page, a sitemap by its name, else a feed."""
    path = urlsplit(url).path
    if path in ("", "/"):
        return "site"
    name = PurePosixPath(path).name.lower()
    return "sitemap" if "sitemap" in name or name.endswith(".xml.gz") else "feed"


def read_subscriptions(con: duckdb.DuckDBPyConnection) -> list[Source]:
    """Return the stored subscriptions, oldest first, as sources with their names."""
    rows = con.execute("SELECT kind, uri, name FROM subscriptions ORDER BY added_at, uri").fetchall()
    return [Source(cast(SourceKind, kind), uri, name) for kind, uri, name in rows]


def subscribe(
    con: duckdb.DuckDBPyConnection, sources: Sequence[Source], now: datetime, site: str | None = None
) -> list[Source]:
    """Store subscriptions, a URL's kind and name replaced when it is subscribed again; return
    those not subscribed before."""
    if not sources:
        return []
    before = {s.uri for s in read_subscriptions(con)}
    unique = list({s.uri: s for s in sources}.values())
    merge(
        con,
        "subscriptions",
        pa.table(
            {
                "uri": [s.uri for s in unique],
                "kind": [s.kind for s in unique],
                "source_id": [s.source_id for s in unique],
                "name": pa.array([s.name for s in unique], pa.string()),
                "site": pa.array([site] * len(unique), pa.string()),
                "added_at": pa.array([now] * len(unique), pa.timestamp("us", tz="UTC")),
            }
        ),
        keys=("uri",),
        update="kind = incoming.kind, source_id = incoming.source_id, "
        "name = coalesce(incoming.name, subscriptions.name), "
        "site = coalesce(incoming.site, subscriptions.site)",
    )
    return [s for s in unique if s.uri not in before]


def unsubscribe(con: duckdb.DuckDBPyConnection, uri: str) -> bool:
    """Forget a subscription (its articles and provenance stay); return False when there was none."""
    found = con.execute("SELECT count(*) FROM subscriptions WHERE uri = ?", [uri]).fetchone()
    if not found or not found[0]:
        return False
    con.execute("DELETE FROM subscriptions WHERE uri = ?", [uri])
    return True


@contextmanager
def writing(store: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the writer lock and a migrated connection to the warehouse."""
    with store.locked(), store.connect() as con:
        warehouse.migrate(con)
        yield con


STATUS_COLUMNS = (
    "kind",
    "uri",
    "name",
    "origin",
    "last_state",
    "last_success_at",
    "consecutive_failures",
    "next_attempt_at",
    "entries_seen",
    "articles_stored",
    "last_error",
)


def status_rows(con: duckdb.DuckDBPyConnection | None, in_file: Sequence[Source]) -> list[tuple[object, ...]]:
    """Return the source_status rows of the subscriptions and of sources.toml's sources (as the
    file lists them), then those of the file no run has read yet."""
    listed = {s.uri: s for s in in_file}
    rows: list[tuple[object, ...]] = []
    if con is not None:
        rows = con.execute(
            "SELECT kind, uri, name, CASE WHEN NOT subscribed THEN 'sources.toml' "
            "WHEN list_contains($file, uri) THEN 'both' ELSE 'subscribed' END AS origin, "
            f"{', '.join(STATUS_COLUMNS[4:])} FROM source_status "
            "WHERE subscribed OR list_contains($file, uri) ORDER BY kind, uri",
            {"file": list(listed)},
        ).fetchall()
    shown = {row[1] for row in rows}
    unread = [(s.kind, s.uri, None, "sources.toml", None, None, 0, None, 0, 0, None) for s in listed.values()]
    return rows + [row for row in unread if row[1] not in shown]


@dataclass(frozen=True, slots=True)
class Checked:
    """What fetching one source now found: its entries, or why it failed."""

    source: Source
    entries: list[EntryMeta]
    faults: list[Quarantined]
    failed: bool


def check_source(fetcher: Fetcher, source: Source, now: datetime) -> Checked:
    """Return what a source holds now: fetched whatever its back-off and validators say."""
    if source.kind == "page":
        try:
            resp = fetcher.fetch(source.uri, accept=PAGE_TYPES)
        except FetchError as exc:
            fault = Quarantined(source.source_id, source.uri, "fetch", exc.reason, explained(exc))
            return Checked(source, [], [fault], True)
        return Checked(
            source,
            [EntryMeta(link=resp.url, summary=f"{len(resp.body)} bytes of {resp.media_type}")],
            [],
            False,
        )
    result = fetch_feed(fetcher, source, FeedHealth.new(source), now=now)
    return Checked(
        source, result.entries, result.feed_faults + result.item_faults, result.outcome == "failed"
    )


def stored_subscriptions(store: Warehouse) -> list[Source]:
    """Return the stored subscriptions; none before the warehouse exists or has them."""
    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND table_name = 'subscriptions'"
        ).fetchone()
        return read_subscriptions(con) if found and found[0] else []
