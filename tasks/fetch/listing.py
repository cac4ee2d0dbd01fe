"""Listing: the due feeds and sitemaps read into page jobs, with each one's outcome and new state."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from tasks.fetch.faults import FetchError
from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.feeds import parse_feed
from tasks.fetch.http import Response
from tasks.fetch.polite import Fetcher
from tasks.fetch.sitemaps import SITEMAP_TYPES, parse_sitemap, recent
from tasks.log import run_logger
from tasks.records import Deferred, EntryMeta, PageJob, Quarantined, Source
from tasks.sources import SourcePlan

if TYPE_CHECKING:
    from tasks.fetch.files import SeedFile

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
    """One feed's outcome: its usable entries, faults of the feed and of entries, its new state."""

    entries: list[EntryMeta]
    feed_faults: list[Quarantined]  # the feed itself: unreachable, malformed
    item_faults: list[Quarantined]  # entries that cannot be fetched: no link
    health: FeedHealth
    outcome: FeedOutcome


def fetch_feed(fetcher: Fetcher, feed: Source, health: FeedHealth, *, now: datetime) -> FeedResult:
    """Return a feed's or sitemap's entries unless it is backed off, answers 304 or sent the
    same body; a forced run asks every source, without validators."""
    p = fetcher.policy
    if not (p.force or health.due(now)):
        return FeedResult([], [], [], health, "deferred")
    headers = {} if p.force else health.request_headers(now, timedelta(hours=p.feed_revalidate_hours))
    accept = SITEMAP_TYPES if feed.kind == "sitemap" else FEED_TYPES
    try:
        resp = fetcher.fetch(feed.uri, accept=accept, headers=headers)
        digest = hashlib.sha256(resp.body).hexdigest() if resp.status == 200 else None
        if resp.status == 304 or (digest == health.body_hash and not p.force):
            return FeedResult([], [], [], health.succeeded(now, resp, digest, not headers), "unchanged")
        if feed.kind == "sitemap":
            entries, faults = read_sitemap(fetcher, feed, resp, now=now)
        else:
            entries, fault = parse_feed(resp.body, resp.url, media_type=resp.media_type)
            faults = [Quarantined(feed.source_id, feed.uri, "parse", "bozo_feed", fault)] if fault else []
    except FetchError as exc:
        detail = explained(exc)
        failed = health.failed(
            now,
            f"{exc.reason}: {detail}",
            base=p.feed_backoff_base,
            cap=p.feed_backoff_cap,
            retry_after=exc.retry_after,
        )
        bad = [Quarantined(feed.source_id, feed.uri, "fetch", exc.reason, detail)]
        return FeedResult([], bad, [], failed, "failed")
    no_link = [
        Quarantined(feed.source_id, e.guid or f"{feed.uri}#{i}", "parse", "no_link", e.title or "")
        for i, e in enumerate(entries)
        if e.link is None
    ]
    usable = [e for e in entries if e.link is not None]
    return FeedResult(usable, faults, no_link, health.succeeded(now, resp, digest, not headers), "new")


def explained(exc: FetchError) -> str:
    """Return a fetch fault's detail, with the setting to change when a setting refused it."""
    if exc.reason == "blocked_address":
        return f"{exc.detail}; to allow it, add the host to NEWSFLOW_ALLOW_HOSTS"
    return exc.detail


def read_sitemap(
    fetcher: Fetcher, source: Source, resp: Response, *, now: datetime
) -> tuple[list[EntryMeta], list[Quarantined]]:
    """Return a sitemap's recent URLs, newest first, reading an index's recent sitemaps; a
    sitemap that fails is a fault of the source, the others are still read."""
    p = fetcher.policy
    root = parse_sitemap(resp.body, resp.url, max_bytes=p.max_bytes)
    faults = [_bozo(source, source.uri, root.fault)] if root.fault else []
    listed = list(root.urls)
    children, _ = recent(root.children, now, p.sitemap_max_age_days)
    for child in children[: p.sitemap_max_children]:
        url = child.link or ""
        try:
            got = fetcher.fetch(url, accept=SITEMAP_TYPES)
            sitemap = parse_sitemap(got.body, got.url, max_bytes=p.max_bytes)
        except FetchError as exc:
            faults.append(Quarantined(source.source_id, url, "fetch", exc.reason, explained(exc)))
            continue
        listed += sitemap.urls  # an index inside an index breaks the protocol: not followed
        faults += [_bozo(source, url, sitemap.fault)] if sitemap.fault else []
    entries, old = recent(listed, now, p.sitemap_max_age_days)
    run_logger().info(
        "sitemap %s: %d URLs taken, %d older than %g days left out, %d of %d sitemaps read",
        source.uri,
        len(entries),
        old,
        p.sitemap_max_age_days,
        min(len(children), p.sitemap_max_children),
        len(root.children),
    )
    return entries, faults


def _bozo(source: Source, uri: str, fault: str) -> Quarantined:
    return Quarantined(source.source_id, uri, "parse", "bozo_sitemap", fault)


@dataclass(frozen=True, slots=True)
class Opened:
    """What the warehouse holds that a run needs before it fetches."""

    known: frozenset[str]  # document keys stored as articles or duplicates: never refetched
    feed_health: dict[str, FeedHealth]  # by feed URI: validators, hashes, back-off
    waiting: list[Deferred]  # items of the run's sources that earlier runs left for later
    seed_files: dict[str, SeedFile] = field(default_factory=dict)  # by key: as last stored
    fetched: Mapping[str, datetime] = field(default_factory=dict)  # stored article key -> last fetched


@dataclass(frozen=True, slots=True)
class Listing:
    """What reading the feeds hands on: the pages to fetch, what waits, faults, feed states."""

    jobs: list[PageJob] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)  # past a feed's cap: next run's
    feed_faults: list[Quarantined] = field(default_factory=list)
    item_faults: list[Quarantined] = field(default_factory=list)
    skipped_known: int = 0  # entries and pages stored already: unchanged, not fetched
    revisits: int = 0  # of jobs: stored articles fetched again (entry updated since, or --force)
    feed_health: list[FeedHealth] = field(default_factory=list)  # after this run's feed fetches
    feeds: dict[str, FeedOutcome] = field(default_factory=dict)  # feed or sitemap URI -> this run's outcome
    names: dict[str, str] = field(default_factory=dict)  # feed or sitemap URI -> its subscription's name

    @property
    def discovered(self) -> int:
        """Return the items this listing found: each ends fetched, stored, waiting or set aside."""
        return len(self.jobs) + len(self.deferred) + len(self.item_faults) + self.skipped_known


def list_feeds(
    fetcher: Fetcher,
    plan: SourcePlan,
    known: frozenset[str],
    *,
    now: datetime,
    health: dict[str, FeedHealth],
    waiting: Sequence[Deferred] = (),
    fetched: Mapping[str, datetime] | None = None,
) -> Listing:
    """Return the plan's pages, the items left waiting by earlier runs, and the due feeds' and
    sitemaps' new entries as jobs, skipping stored URLs; past a source's cap, new entries wait
    for the next run."""
    logger = run_logger()
    listed = plan.listed()
    before = [health.get(f.uri) or FeedHealth.new(f) for f in listed]
    with ThreadPoolExecutor(max(1, fetcher.policy.workers)) as pool:
        results = list(pool.map(lambda f, h: fetch_feed(fetcher, f, h, now=now), listed, before))
    by_source: dict[str, list[PageJob]] = defaultdict(list)
    for item in waiting:  # first: they were found earlier
        by_source[item.source_id].append(PageJob(item.uri, item.source_id, item.entry))
    for page in plan.pages:
        by_source[page.source_id].append(PageJob(page.uri, page.source_id))
    for feed, result in zip(listed, results, strict=True):
        by_source[feed.source_id] += [PageJob(e.link, feed.source_id, e) for e in result.entries if e.link]
        if result.outcome == "failed":
            logger.warning("%s %s set aside: %s", feed.kind, feed.uri, result.health.last_error)
    policy = fetcher.policy
    again = Revisit(fetched or {}, now, timedelta(days=policy.revisit_days) if policy.force else None)
    jobs, deferred, stored = _take(by_source, known, policy.max_entries, again)
    outcomes = [r.outcome for r in results]
    logger.info(
        "feeds and sitemaps: %d read, %d unchanged, %d backed off, %d failed; pages: %d to fetch (%d of them "
        "stored, fetched again), %d already stored, %d left for the next run",
        outcomes.count("new"),
        outcomes.count("unchanged"),
        outcomes.count("deferred"),
        outcomes.count("failed"),
        len(jobs),
        again.taken,
        stored,
        len(deferred),
    )
    return Listing(
        jobs=jobs,
        deferred=deferred,
        feed_faults=[q for r in results for q in r.feed_faults],
        item_faults=[q for r in results for q in r.item_faults],
        skipped_known=stored,
        revisits=again.taken,
        feed_health=[r.health for r in results],
        feeds={f.uri: r.outcome for f, r in zip(listed, results, strict=True)},
        names={f.uri: f.name for f in listed if f.name},
    )


@dataclass
class Revisit:
    """Which stored articles a run fetches again: those whose feed entry or sitemap URL says they
    changed after they were fetched (a date in the future is not believed), and on a forced run
    those fetched within `window`."""

    fetched: Mapping[str, datetime]  # stored article key -> when it was last fetched
    now: datetime
    window: timedelta | None  # a forced run's: stored articles fetched this recently
    taken: int = 0

    def wanted(self, job: PageJob) -> bool:
        last = self.fetched.get(job.url)
        if last is None:
            return False  # stored as a duplicate, or not at all
        updated = job.entry.updated if job.entry else None
        if updated is not None and last < updated <= self.now:
            return True
        return self.window is not None and last >= self.now - self.window


def _take(
    by_source: dict[str, list[PageJob]], known: frozenset[str], cap: int, again: Revisit | None = None
) -> tuple[list[PageJob], list[Deferred], int]:
    """Return the jobs to fetch now (at most cap URLs a source, new ones and stored articles to
    fetch again alike), those left for the next run, and how many URLs were stored already and
    not fetched; a URL listed twice is one item."""
    seen: set[str] = set()
    jobs: list[PageJob] = []
    deferred: list[Deferred] = []
    stored = 0
    for source_jobs in by_source.values():
        taken = 0
        for job in source_jobs:
            if job.url in seen:
                continue
            seen.add(job.url)
            revisit = job.url in known and again is not None and again.wanted(job)
            if job.url in known and not revisit:
                stored += 1
            elif taken < cap:
                jobs.append(job)
                taken += 1
                if revisit and again is not None:
                    again.taken += 1
            else:
                deferred.append(
                    Deferred(
                        job.source_id,
                        job.url,
                        "entry_cap",
                        f"more than {cap} new entries in one run",
                        job.entry,
                    )
                )
    return jobs, deferred, stored
