"""Fetching: the run's tasks that list feeds and read seed files and pages, politely."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.fetch.listing import Listing, Opened, list_feeds
from tasks.fetch.pages import Fetched, Job, fetch_jobs
from tasks.fetch.polite import Fetcher
from tasks.log import run_logger
from tasks.sources import SourcePlan


@task(name="list-feeds", cache_policy=NO_CACHE, timeout_seconds=3600)
def list_web(fetcher: Fetcher, plan: SourcePlan, opened: Opened, now: datetime) -> Listing:
    """Fetch the plan's due feeds; return their new entries, its pages and the items earlier
    runs left waiting, as jobs."""
    return list_feeds(
        fetcher,
        plan,
        opened.known,
        now=now,
        health=opened.feed_health,
        waiting=opened.waiting,
        fetched=opened.fetched,
    )


# No task timeout: the flow submits this to a thread, which Prefect cannot interrupt; every
# request has its own deadline (NEWSFLOW_HTTP_DEADLINE) instead.
@task(name="fetch-chunk", cache_policy=NO_CACHE)
def fetch_chunk(fetcher: Fetcher, jobs: list[Job], now: datetime) -> Fetched:
    """Read a chunk's seed files and fetch its pages with the run's fetcher."""
    fetched = fetch_jobs(jobs, fetcher, now=now)
    run_logger().info(
        "%d documents, %d set aside, %d left for the next run",
        len(fetched.documents),
        len(fetched.quarantined),
        len(fetched.deferred),
    )
    return fetched
