"""Listing: the due feeds read into page jobs, with each feed's outcome and new state."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.feeds import parse_feed
from tasks.fetch.http import FetchError
from tasks.fetch.polite import Fetcher
from tasks.log import run_logger
from tasks.records import EntryMeta, PageJob, Quarantined, Source

# Servers label feeds loosely; what is not a feed fails in parse_feed as not_a_feed.
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "text/rss+xml",
    "text/atom+xml",
    "text/rdf+xml",
    "application/x-rss+xml",
    "application/x-atom+xml",
    "application/rss",
    "application/feed+json",
    "application/json",
    "text/json",
    "text/html",
    "text/plain",
    "application/octet-stream",
)
# Set aside for now, tried again next run: a feed with such pages is listed again then.
RETRY_REASONS = {
    "retry_later",
    "robots_unavailable",
    "timeout",
    "deadline_exceeded",
    "url_budget_exceeded",
    "network_error",
    "dns_unavailable",
    "connect_refused",
    "connect_error",
    "connect_timeout",
    "http_408",
    "http_429",
}

FeedOutcome = Literal["new", "unchanged", "deferred", "failed"]


def retry_next_run(reason: str) -> bool:
    """Return True for fetch failures that may pass on a later run (timeouts, 5xx, 429)."""
    return reason in RETRY_REASONS or reason.startswith("http_5")


@dataclass(frozen=True, slots=True)
class FeedResult:
    """One feed's outcome: entries to fetch, items set aside, and its new state."""

    entries: list[EntryMeta]
    quarantined: list[Quarantined]
    health: FeedHealth
    outcome: FeedOutcome


def fetch_feed(fetcher: Fetcher, feed: Source, health: FeedHealth, *, now: datetime) -> FeedResult:
    """Return a feed's entries unless it is backed off, answers 304 or sent the same body."""
    if not health.due(now):
        return FeedResult([], [], health, "deferred")
    p = fetcher.policy
    headers = health.request_headers(now, timedelta(hours=p.feed_revalidate_hours))
    try:
        resp = fetcher.fetch(feed.uri, accept=FEED_TYPES, headers=headers)
        digest = hashlib.sha256(resp.body).hexdigest() if resp.status == 200 else None
        if resp.status == 304 or digest == health.body_hash:
            return FeedResult([], [], health.succeeded(now, resp, digest, not headers), "unchanged")
        entries, fault = parse_feed(
            resp.body, resp.url, max_entries=p.max_entries, media_type=resp.media_type
        )
    except FetchError as exc:
        failed = health.failed(
            now,
            f"{exc.reason}: {exc.detail}",
            base=p.feed_backoff_base,
            cap=p.feed_backoff_cap,
            retry_after=exc.retry_after,
        )
        bad = [Quarantined(feed.source_id, feed.uri, "fetch", exc.reason, exc.detail)]
        return FeedResult([], bad, failed, "failed")
    bad = []
    if fault:
        bad.append(Quarantined(feed.source_id, feed.uri, "parse", "bozo_feed", fault))
    bad += [
        Quarantined(feed.source_id, e.guid or feed.uri, "parse", "no_link", e.title or "")
        for e in entries
        if e.link is None
    ]
    usable = [e for e in entries if e.link is not None]
    return FeedResult(usable, bad, health.succeeded(now, resp, digest, not headers), "new")


@dataclass(frozen=True, slots=True)
class Listing:
    """What reading the feeds hands on: the pages to fetch, feed faults, and the feeds' states."""

    jobs: list[PageJob] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    skipped_known: int = 0
    feed_health: list[FeedHealth] = field(default_factory=list)  # after this run's feed fetches
    stored_health: list[FeedHealth] = field(default_factory=list)  # the same feeds, as stored
    feeds_unchanged: int = 0  # answered 304 or sent the body of last time
    feeds_deferred: int = 0  # backed off after failures: not asked this run


def list_feeds(
    fetcher: Fetcher,
    feeds: Sequence[Source],
    pages: Sequence[Source],
    known: frozenset[str],
    *,
    now: datetime,
    health: dict[str, FeedHealth] | None = None,
) -> Listing:
    """Return the listed pages and the due feeds' new entries as jobs, skipping stored URLs."""
    logger = run_logger()
    before = [(health or {}).get(f.uri) or FeedHealth.new(f) for f in feeds]
    with ThreadPoolExecutor(max(1, fetcher.policy.workers)) as pool:
        results = list(pool.map(lambda f, h: fetch_feed(fetcher, f, h, now=now), feeds, before))
    todo = [PageJob(p.uri, p.source_id) for p in pages]
    for feed, result in zip(feeds, results, strict=True):
        todo += [PageJob(e.link, feed.source_id, e) for e in result.entries if e.link]
        if result.outcome == "failed":
            logger.warning("feed %s set aside: %s", feed.uri, result.health.last_error)
    jobs, skipped = _new_urls(todo, known)
    outcomes = [r.outcome for r in results]
    logger.info(
        "feeds: %d read, %d unchanged, %d backed off, %d failed; pages: %d to fetch, %d already stored",
        outcomes.count("new"),
        outcomes.count("unchanged"),
        outcomes.count("deferred"),
        outcomes.count("failed"),
        len(jobs),
        skipped,
    )
    return Listing(
        jobs,
        [q for r in results for q in r.quarantined],
        skipped,
        [r.health for r in results],
        before,
        outcomes.count("unchanged"),
        outcomes.count("deferred"),
    )


def settle_feeds(listing: Listing, page_faults: Sequence[Quarantined]) -> list[FeedHealth]:
    """Return the feeds' states to store: a feed with pages to retry next run keeps its old
    validators, so that it is listed again then."""
    again = {q.source_id for q in page_faults if retry_next_run(q.reason)}
    return [
        after.keep_validators_of(stored) if after.source_id in again else after
        for after, stored in zip(listing.feed_health, listing.stored_health, strict=True)
    ]


def _new_urls(todo: list[PageJob], known: frozenset[str]) -> tuple[list[PageJob], int]:
    """Return the jobs whose URL is neither stored nor listed earlier, and how many were stored."""
    seen: set[str] = set()
    fresh = []
    stored = 0
    for job in todo:
        if job.url in known:
            stored += 1
        elif job.url not in seen:
            seen.add(job.url)
            fresh.append(job)
    return fresh, stored
