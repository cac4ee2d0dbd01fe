"""Reading jobs: seed files from disk and article pages over HTTP, in job order."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import zip_longest
from urllib.parse import urlsplit

from tasks.fetch.faults import FetchError
from tasks.fetch.files import read_job
from tasks.fetch.listing import retry_next_run
from tasks.fetch.polite import Fetcher
from tasks.records import Deferred, EntryMeta, FileJob, PageJob, Quarantined, RawDocument

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
Job = PageJob | FileJob


def fetch_page(
    fetcher: Fetcher,
    url: str,
    source_id: str,
    *,
    now: datetime,
    entry: EntryMeta | None = None,
) -> RawDocument | Quarantined | Deferred:
    """Return the fetched article page, its quarantine record, or, when the fault may pass
    (Retry-After, robots.txt unreachable, 5xx, timeouts), the item left for the next run."""
    try:
        resp = fetcher.fetch(url, accept=PAGE_TYPES)
    except FetchError as exc:
        if retry_next_run(exc.reason):
            return Deferred(source_id, url, exc.reason, exc.detail, entry)
        return Quarantined(source_id, url, "fetch", exc.reason, exc.detail)
    media_type = "text/plain" if resp.media_type == "text/plain" else "text/html"
    return RawDocument(source_id, url, resp.body, media_type, now, resp.charset, entry, resp.url)


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch hands on: the documents read, the jobs set aside, the jobs left for later."""

    documents: list[RawDocument]
    quarantined: list[Quarantined]
    deferred: list[Deferred]


def fetch_job(job: Job, fetcher: Fetcher, *, now: datetime) -> RawDocument | Quarantined | Deferred:
    """Return the seed file read or the page fetched, or why it was set aside or left for later."""
    if isinstance(job, FileJob):
        return read_job(job, now=now, max_bytes=fetcher.policy.max_bytes)
    return fetch_page(fetcher, job.url, job.source_id, now=now, entry=job.entry)


def fetch_jobs(jobs: Sequence[Job], fetcher: Fetcher, *, now: datetime) -> Fetched:
    """Return the documents read or fetched, in job order, and the jobs set aside."""
    with ThreadPoolExecutor(max(1, fetcher.policy.workers)) as pool:
        done = list(pool.map(lambda job: fetch_job(job, fetcher, now=now), jobs))
    return Fetched(
        [r for r in done if isinstance(r, RawDocument)],
        [r for r in done if isinstance(r, Quarantined)],
        [r for r in done if isinstance(r, Deferred)],
    )


def in_host_turns(jobs: Sequence[Job]) -> list[Job]:
    """Return the seed files first, then the pages with their hosts taking turns (the first
    page of each host, then the second...), so that paced hosts are fetched side by side."""
    files = [job for job in jobs if isinstance(job, FileJob)]
    by_host: dict[str, list[PageJob]] = {}
    for job in jobs:
        if isinstance(job, PageJob):
            by_host.setdefault(urlsplit(job.url).hostname or "", []).append(job)
    turns = [job for rank in zip_longest(*by_host.values()) for job in rank if job is not None]
    return [*files, *turns]


def chunks(jobs: Sequence[Job], size: int) -> list[list[Job]]:
    """Return the jobs in chunks of at most size, in order; none when there are no jobs."""
    return [list(jobs[start : start + size]) for start in range(0, len(jobs), max(1, size))]
