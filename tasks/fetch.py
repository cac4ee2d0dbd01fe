"""Fetching: seed files from a folder, feeds and article pages over HTTP."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.feedhealth import FeedHealth
from tasks.feeds import FeedRejected, parse_feed
from tasks.files import FILE_TYPES, read_file, read_folder, read_job
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
from tasks.polite import Fetcher, run_fetcher
from tasks.records import EntryMeta, FileJob, PageJob, Quarantined, RawDocument, Source
from tasks.runlog import run_logger
from tasks.settings import Settings

__all__ = ["FILE_TYPES", "FeedRejected", "FetchError", "FetchPolicy", "Response", "RetryLater",
           "TransientFetchError", "get", "http_client", "parse_feed", "read_file", "read_folder"]

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


def retry_next_run(reason: str) -> bool:
    """Return True for fetch failures that may pass on a later run (timeouts, 5xx, 429)."""
    return reason in RETRY_REASONS or reason.startswith("http_5")


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
    fetcher: Fetcher, feeds: Sequence[Source], pages: Sequence[Source], known: frozenset[str], *,
    now: datetime, max_entries: int, workers: int, health: dict[str, FeedHealth] | None = None,
) -> Listing:
    """Return the listed pages and the due feeds' new entries as jobs, skipping stored URLs."""
    logger = run_logger()
    before = [(health or {}).get(f.uri) or FeedHealth.new(f) for f in feeds]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(pool.map(lambda f, h: fetch_feed(fetcher, f, h, now=now,
                                                        max_entries=max_entries), feeds, before))
    todo = [PageJob(p.uri, p.source_id) for p in pages]
    for feed, result in zip(feeds, results, strict=True):
        todo += [PageJob(e.link, feed.source_id, e) for e in result.entries if e.link]
        if result.outcome == "failed":
            logger.warning("feed %s set aside: %s", feed.uri, result.health.last_error)
    jobs, skipped = _new_urls(todo, known)
    outcomes = [r.outcome for r in results]
    logger.info("feeds: %d read, %d unchanged, %d backed off, %d failed; pages: %d to fetch, "
                "%d already stored", outcomes.count("new"), outcomes.count("unchanged"),
                outcomes.count("deferred"), outcomes.count("failed"), len(jobs), skipped)
    return Listing(jobs, [q for r in results for q in r.quarantined], skipped,
                   [r.health for r in results], before, outcomes.count("unchanged"),
                   outcomes.count("deferred"))


def settle_feeds(listing: Listing, page_faults: Sequence[Quarantined]) -> list[FeedHealth]:
    """Return the feeds' states to store: a feed with pages to retry next run keeps its old
    validators, so that it is listed again then."""
    again = {q.source_id for q in page_faults if retry_next_run(q.reason)}
    return [after.keep_validators_of(stored) if after.source_id in again else after
            for after, stored in zip(listing.feed_health, listing.stored_health, strict=True)]


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch task hands on: documents, quarantined items, and feed faults."""

    documents: list[RawDocument]
    quarantined: list[Quarantined]
    skipped_known: int = 0
    feed_health: list[FeedHealth] = field(default_factory=list)  # to write_feed_health
    feeds_unchanged: int = 0  # answered 304 or sent the body of last time
    feeds_deferred: int = 0  # backed off after failures: not asked this run


def fetch_jobs(
    jobs: Sequence[PageJob | FileJob], fetcher: Callable[[], Fetcher], *, now: datetime,
    max_bytes: int, workers: int,
) -> Fetched:
    """Return the documents read or fetched, in job order, and the jobs set aside."""
    def one(job: PageJob | FileJob) -> RawDocument | Quarantined:
        if isinstance(job, FileJob):
            return read_job(job, now=now, max_bytes=max_bytes)
        return fetch_page(fetcher(), job.url, job.source_id, now=now, entry=job.entry)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        done = list(pool.map(one, jobs))
    return Fetched([r for r in done if isinstance(r, RawDocument)],
                   [r for r in done if isinstance(r, Quarantined)])


@task(name="fetch-web", cache_policy=NO_CACHE, timeout_seconds=3600)
def fetch_web(
    feeds: list[Source], pages: list[Source], known: frozenset[str], now: datetime,
    user_agent: str, timeout: float, max_bytes: int, max_entries: int, workers: int,
    policy: FetchPolicy | None = None, health: dict[str, FeedHealth] | None = None,
) -> Fetched:
    """Fetch the due feeds, then their new entries' pages and the listed pages, all at once.

    policy defaults to the NEWSFLOW_* settings; health holds the feeds' stored states by URI.
    The flow streams instead, through list_web and fetch_chunk.
    """
    policy = dataclasses.replace(policy or FetchPolicy.from_settings(Settings()),
                                 user_agent=user_agent, timeout=timeout, max_bytes=max_bytes)
    with guarded_client(policy) as client:
        fetcher = Fetcher(client, policy)
        listing = list_feeds(fetcher, feeds, pages, known, now=now, max_entries=max_entries,
                             workers=workers, health=health)
        pages_done = fetch_jobs(listing.jobs, lambda: fetcher, now=now, max_bytes=max_bytes,
                                workers=workers)
    run_logger().info("pages: %d fetched, %d set aside", len(pages_done.documents),
                      len(pages_done.quarantined))
    return Fetched(pages_done.documents, listing.quarantined + pages_done.quarantined,
                   listing.skipped_known, settle_feeds(listing, pages_done.quarantined),
                   listing.feeds_unchanged, listing.feeds_deferred)


@task(name="list-feeds", cache_policy=NO_CACHE, timeout_seconds=3600)
def list_web(
    run_id: str, feeds: list[Source], pages: list[Source], known: frozenset[str], now: datetime,
    policy: FetchPolicy, max_entries: int, workers: int, health: dict[str, FeedHealth],
) -> Listing:
    """Fetch the due feeds with the run's fetcher; return the pages to fetch as jobs."""
    return list_feeds(run_fetcher(run_id, policy), feeds, pages, known, now=now,
                      max_entries=max_entries, workers=workers, health=health)


# No task timeout: the flow submits this to a thread, which Prefect cannot interrupt; every
# request has its own deadline (NEWSFLOW_HTTP_DEADLINE) instead.
@task(name="fetch-chunk", cache_policy=NO_CACHE)
def fetch_chunk(
    run_id: str, jobs: list[PageJob | FileJob], now: datetime, policy: FetchPolicy, workers: int
) -> Fetched:
    """Read a chunk's seed files and fetch its pages with the run's fetcher, politely."""
    fetched = fetch_jobs(jobs, lambda: run_fetcher(run_id, policy), now=now,
                         max_bytes=policy.max_bytes, workers=workers)
    run_logger().info("%d documents, %d set aside", len(fetched.documents),
                      len(fetched.quarantined))
    return fetched


def chunks(jobs: Sequence[PageJob | FileJob], size: int) -> list[list[PageJob | FileJob]]:
    """Return the jobs in chunks of at most size, in order; none when there are no jobs."""
    return [list(jobs[start : start + size]) for start in range(0, len(jobs), max(1, size))]


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
