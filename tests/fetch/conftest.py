"""Fetch-layer helpers: a whole crawl of feeds and pages, as the flow's tasks run it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.http import FetchPolicy
from tasks.fetch.listing import list_feeds
from tasks.fetch.pages import fetch_jobs
from tasks.fetch.polite import fetch_session
from tasks.records import Deferred, Quarantined, RawDocument, Source
from tasks.settings import Settings
from tasks.sources import SourcePlan

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_policy(**changes: object) -> FetchPolicy:
    """The settings' fetch policy (the environment the root conftest sets), with changes."""
    return replace(Settings().fetch_policy(), **changes)  # type: ignore[arg-type]


test_policy.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@dataclass(frozen=True)
class Crawl:
    """What listing the feeds and fetching their pages gave."""

    documents: list[RawDocument]
    quarantined: list[Quarantined]  # feeds' and items'
    deferred: list[Deferred]
    skipped_known: int
    feed_health: list[FeedHealth]
    feeds_unchanged: int
    feeds_deferred: int


def crawl(
    policy: FetchPolicy,
    feeds: list[Source],
    pages: list[Source],
    *,
    known: frozenset[str] = frozenset(),
    now: datetime = NOW,
    health: dict[str, FeedHealth] | None = None,
    waiting: list[Deferred] | None = None,
) -> Crawl:
    """Return the feeds listed and every page fetched with one run's fetcher."""
    with fetch_session(policy) as fetcher:
        plan = SourcePlan(None, feeds, pages)
        listing = list_feeds(fetcher, plan, known, now=now, health=health or {}, waiting=waiting or [])
        done = fetch_jobs(listing.jobs, fetcher, now=now)
    outcomes = list(listing.feeds.values())
    return Crawl(
        done.documents,
        listing.feed_faults + listing.item_faults + done.quarantined,
        listing.deferred + done.deferred,
        listing.skipped_known,
        listing.feed_health,
        outcomes.count("unchanged"),
        outcomes.count("deferred"),
    )
