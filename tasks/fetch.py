"""Fetching: seed files from a folder, feeds and article pages over HTTP."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.feedhealth import FeedHealth
from tasks.feeds import FeedRejected, parse_feed
from tasks.http import (
    FetchError,
    FetchPolicy,
    Response,
    RetryLater,
    TransientFetchError,
    get,
    guarded_client,
    http_client,
)
from tasks.polite import Fetcher
from tasks.records import EntryMeta, Quarantined, RawDocument, Source
from tasks.runlog import run_logger
from tasks.settings import Settings
from tasks.sniff import looks_binary

__all__ = ["FeedRejected", "FetchError", "FetchPolicy", "Response", "RetryLater",
           "TransientFetchError", "get", "http_client", "parse_feed"]

FILE_TYPES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Servers label feeds loosely; what is not a feed fails in parse_feed as not_a_feed.
FEED_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "application/x-rss+xml", "application/feed+json", "application/json",
    "text/html", "text/plain", "application/octet-stream",
)
# Set aside for now, tried again next run: a feed with such pages is listed again then.
RETRY_REASONS = {"retry_later", "robots_unavailable", "timeout", "deadline_exceeded",
                 "network_error", "http_408", "http_429"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def retry_next_run(reason: str) -> bool:
    """Return True for fetch failures that may pass on a later run (timeouts, 5xx, 429)."""
    return reason in RETRY_REASONS or reason.startswith("http_5")


def read_folder(
    folder: Path, source: Source, *, now: datetime, max_bytes: int
) -> tuple[list[RawDocument], list[Quarantined]]:
    """Return the article files of a folder as raw documents, and the files set aside."""
    docs: list[RawDocument] = []
    bad: list[Quarantined] = []
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        media_type = FILE_TYPES.get(path.suffix.lower())
        if media_type is None or (path.is_dir() and not path.is_symlink()):
            continue  # not an article file (sources.toml, README.md, images...)
        name = path.relative_to(folder).as_posix()
        # Surrogate-escaped names cannot be stored as VARCHAR: show the bytes instead.
        shown = os.fsencode(name).decode("utf-8", errors="backslashreplace")
        key = f"{folder.name}/{_CONTROL.sub(_escaped, shown)}"
        reason, detail, body = read_file(path, root, max_bytes)
        if not reason and key != f"{folder.name}/{name}":
            reason, detail = "bad_file_name", "name not UTF-8 or with control characters"
        if reason:
            bad.append(Quarantined(source.source_id, key, "fetch", reason, detail))
        else:
            docs.append(RawDocument(source.source_id, key, body, media_type, now))
    return docs, bad


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def read_file(path: Path, root: Path, max_bytes: int) -> tuple[str, str, bytes]:
    """Return (reason, detail, body) for one file under root: a reason when it is set aside."""
    real = path.resolve()
    if not real.is_relative_to(root):
        return "outside_folder", f"links to {real}", b""
    try:
        mode = real.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            return "not_a_file", stat.filemode(mode), b""
        with real.open("rb") as handle:
            body = handle.read(max_bytes + 1)  # the file may grow after a stat
    except OSError as exc:
        return "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}", b""
    if len(body) > max_bytes:
        return "too_large", f"more than {max_bytes} bytes", b""
    if not body.strip():
        return "empty", "no content", b""
    if looks_binary(body[:8192]):
        return "binary", "NUL bytes or a binary signature at the start", b""
    return "", "", body


def fetch_page(
    fetcher: Fetcher, url: str, source_id: str, *, now: datetime, entry: EntryMeta | None = None,
) -> RawDocument | Quarantined:
    """Return the fetched article page, or its quarantine record."""
    try:
        resp = fetcher.fetch(url, accept=PAGE_TYPES)
    except FetchError as exc:
        return Quarantined(source_id, url, "fetch", exc.reason, exc.detail)
    media_type = "text/plain" if resp.media_type == "text/plain" else "text/html"
    return RawDocument(source_id, url, resp.body, media_type, now, resp.charset, entry, resp.url)


@dataclass(frozen=True, slots=True)
class FeedResult:
    """One feed's outcome: entries to fetch, items set aside, and its new state."""

    entries: list[EntryMeta]
    quarantined: list[Quarantined]
    health: FeedHealth
    outcome: str  # 'new' | 'unchanged' | 'deferred' | 'failed'


def fetch_feed(
    fetcher: Fetcher, feed: Source, health: FeedHealth, *, now: datetime, max_entries: int
) -> FeedResult:
    """Return a feed's entries unless it is backed off, answers 304 or sent the same body."""
    if not health.due(now):
        return FeedResult([], [], health, "deferred")
    p = fetcher.policy
    headers = health.request_headers(now, timedelta(hours=p.feed_revalidate_hours))
    try:
        resp = fetcher.fetch(feed.uri, accept=FEED_TYPES, headers=headers)
        digest = hashlib.sha256(resp.body).hexdigest() if resp.status == 200 else None
        if resp.status == 304 or digest == health.body_hash:
            return FeedResult([], [], health.succeeded(now, resp, digest, not headers),
                              "unchanged")
        entries, fault = parse_feed(resp.body, resp.url, max_entries=max_entries,
                                    media_type=resp.media_type)
    except FetchError as exc:
        failed = health.failed(now, f"{exc.reason}: {exc.detail}", base=p.feed_backoff_base,
                               cap=p.feed_backoff_cap, retry_after=exc.retry_after)
        bad = [Quarantined(feed.source_id, feed.uri, "fetch", exc.reason, exc.detail)]
        return FeedResult([], bad, failed, "failed")
    bad = []
    if fault:
        bad.append(Quarantined(feed.source_id, feed.uri, "parse", "bozo_feed", fault))
    bad += [Quarantined(feed.source_id, e.guid or feed.uri, "parse", "no_link", e.title or "")
            for e in entries if e.link is None]
    usable = [e for e in entries if e.link is not None]
    return FeedResult(usable, bad, health.succeeded(now, resp, digest, not headers), "new")


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch task hands on: documents, quarantined items, and feed faults."""

    documents: list[RawDocument]
    quarantined: list[Quarantined]
    skipped_known: int = 0
    feed_health: list[FeedHealth] = field(default_factory=list)  # to write_feed_health
    feeds_unchanged: int = 0  # answered 304 or sent the body of last time
    feeds_deferred: int = 0  # backed off after failures: not asked this run


@task(name="read-seeds", cache_policy=NO_CACHE)
def read_seeds(folder: Path, source: Source, now: datetime, max_bytes: int) -> Fetched:
    """Read the seed folder's article files."""
    docs, bad = read_folder(folder, source, now=now, max_bytes=max_bytes)
    run_logger().info("read %d files from %s, %d set aside", len(docs), folder, len(bad))
    return Fetched(docs, bad)


@task(name="fetch-web", cache_policy=NO_CACHE, timeout_seconds=3600)
def fetch_web(
    feeds: list[Source], pages: list[Source], known: frozenset[str], now: datetime,
    user_agent: str, timeout: float, max_bytes: int, max_entries: int, workers: int,
    policy: FetchPolicy | None = None, health: dict[str, FeedHealth] | None = None,
) -> Fetched:
    """Fetch the due feeds, then their new entries' pages and the listed pages, in parallel.

    policy defaults to the NEWSFLOW_* settings; health holds the feeds' stored states by URI.
    """
    logger = run_logger()
    policy = dataclasses.replace(policy or FetchPolicy.from_settings(Settings()),
                                 user_agent=user_agent, timeout=timeout, max_bytes=max_bytes)
    before = {f.uri: (health or {}).get(f.uri) or FeedHealth.new(f) for f in feeds}
    with guarded_client(policy) as client, ThreadPoolExecutor(max(1, workers)) as pool:
        fetcher = Fetcher(client, policy)
        results = list(pool.map(lambda f: fetch_feed(fetcher, f, before[f.uri], now=now,
                                                     max_entries=max_entries), feeds))
        bad = [q for r in results for q in r.quarantined]
        todo: list[tuple[str, str, EntryMeta | None]] = [(p.uri, p.source_id, None) for p in pages]
        for feed, result in zip(feeds, results, strict=True):
            todo += [(e.link, feed.source_id, e) for e in result.entries if e.link]
            if result.outcome == "failed":
                logger.warning("feed %s set aside: %s", feed.uri, result.health.last_error)
        unique, skipped = _new_urls(todo, known)
        pages_done = list(pool.map(
            lambda item: fetch_page(fetcher, item[0], item[1], now=now, entry=item[2]), unique))
    docs = [r for r in pages_done if isinstance(r, RawDocument)]
    retry = [r for r in pages_done if isinstance(r, Quarantined)]
    bad += retry
    again = {q.source_id for q in retry if retry_next_run(q.reason)}
    states = [r.health.keep_validators_of(before[f.uri]) if f.source_id in again else r.health
              for f, r in zip(feeds, results, strict=True)]
    outcomes = [r.outcome for r in results]
    logger.info("feeds: %d read, %d unchanged, %d backed off, %d failed; pages: %d fetched, "
                "%d set aside, %d already stored", outcomes.count("new"),
                outcomes.count("unchanged"), outcomes.count("deferred"),
                outcomes.count("failed"), len(docs), len(retry), skipped)
    return Fetched(docs, bad, skipped, states, outcomes.count("unchanged"),
                   outcomes.count("deferred"))


def _new_urls(
    todo: list[tuple[str, str, EntryMeta | None]], known: frozenset[str]
) -> tuple[list[tuple[str, str, EntryMeta | None]], int]:
    """Return the items whose URL is neither stored nor listed earlier, and how many were stored."""
    seen: set[str] = set()
    fresh = []
    stored = 0
    for item in todo:
        if item[0] in known:
            stored += 1
        elif item[0] not in seen:
            seen.add(item[0])
            fresh.append(item)
    return fresh, stored
