"""Preparing: clean, detect language, normalize and sign each document of a batch."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tasks.clean import MIN_SOURCE_DOCS, clean_document, decode_text, repeated_by_source
from tasks.clean.stories import repeated_lines
from tasks.dedup import sign
from tasks.fetch.files import read_file
from tasks.language import detect_language
from tasks.log import run_logger
from tasks.normalize import to_article
from tasks.pool import DocumentPool, Failed, can_fork_workers, take_early
from tasks.records import FileJob, Prepared, Quarantined, RawDocument


@dataclass(frozen=True, slots=True)
class PrepareConfig:
    """What preparing one document needs besides the document: small enough to send each time."""

    now: datetime
    language_threshold: float
    language_sample_chars: int
    min_words: int
    timeout: float  # seconds one document may take in a worker process
    run_id: str


def prepare_document(
    raw: RawDocument, repeated: frozenset[str], config: PrepareConfig
) -> Prepared | Quarantined:
    """Return the signed article made from a raw document, with its body compressed for the
    raw_documents table, or its quarantine record."""
    cleaned = clean_document(raw, repeated)
    if isinstance(cleaned, Quarantined):
        return cleaned
    guess = detect_language(
        cleaned.text, threshold=config.language_threshold, sample_chars=config.language_sample_chars
    )
    article = to_article(cleaned, guess, now=config.now, min_words=config.min_words, run_id=config.run_id)
    if isinstance(article, Quarantined):
        return article
    # Compressed here, in the worker, not by the load, which runs in the one main process. Level 6
    # as ever: the stored bytes stay the same for the same page.
    return Prepared(article, zlib.compress(raw.body, 6), raw.media_type, *sign(article.text))


def prepare_remote(job: tuple[RawDocument, frozenset[str], PrepareConfig]) -> Prepared | Quarantined:
    """Return prepare_document(*job): the pool hands a worker process one value per job."""
    return prepare_document(*job)


_WARM_UP = RawDocument(
    "warm-up",
    "warm-up",
    (
        "<html><head><title>Warm-up</title></head><body><article>"
        + "<p>The workers read this short article once, before their first document.</p>" * 20
        + "</article></body></html>"
    ).encode(),
    "text/html",
    datetime(2024, 1, 1, tzinfo=UTC),
)


def warm_up() -> None:
    """Prepare a small document once: extraction and language detection load data on first use."""
    prepare_document(_WARM_UP, frozenset(), PrepareConfig(_WARM_UP.fetched_at, 0.8, 2000, 1, 60.0, "warm-up"))


# What the workers' fork server imports: this module, with the models loaded (tasks/preload.py).
PRELOAD = ("tasks.preload",)


@contextmanager
def worker_pool(workers: int) -> Iterator[DocumentPool | None]:
    """Hold the run's worker processes (those started early for it, if any: start_early with
    PRELOAD); None when preparing in process (0 workers, or a daemonic process such as a Dask
    worker, which may not start children)."""
    early = take_early(workers, PRELOAD)
    if workers <= 0 or not can_fork_workers():
        yield None
        return
    # Workers fork from a server that has imported trafilatura, langdetect and numpy once.
    with early or DocumentPool(workers, preload=PRELOAD) as pool:
        yield pool


def repeated_in_seeds(jobs: Sequence[FileJob], max_bytes: int) -> dict[str, frozenset[str]]:
    """Return, per source, the lines repeated across its plain-text seed files, read one at a
    time; none when there are no such files."""
    texts: dict[str, list[FileJob]] = defaultdict(list)
    for job in jobs:
        if job.media_type == "text/plain":
            texts[job.source_id].append(job)

    def read(group: list[FileJob]) -> Iterator[str]:
        for job in group:
            reason, _, body = read_file(job.path, job.root, max_bytes)
            if not reason:
                yield decode_text(body, None)

    return {sid: repeated_lines(read(group), min_docs=MIN_SOURCE_DOCS) for sid, group in texts.items()}


def settle(raw: RawDocument, outcome: Prepared | Quarantined | Failed) -> Prepared | Quarantined:
    """Return a worker's outcome for raw, or the quarantine record of a document whose worker
    timed out or crashed."""
    if isinstance(outcome, Failed):
        return Quarantined(
            raw.source_id, raw.uri, "clean", f"extract_{outcome.reason}", f"{outcome.detail}; worker replaced"
        )
    return outcome


def prepare_all(
    docs: Sequence[RawDocument],
    config: PrepareConfig,
    pool: DocumentPool | None,
    repeated: Mapping[str, frozenset[str]] | None = None,
) -> tuple[list[Prepared], list[Quarantined]]:
    """Return a batch's articles in input order and the documents set aside, clean stage first;
    repeated lines per source are found in the batch unless given."""
    lines = {**repeated_by_source(docs), **(repeated or {})}
    jobs = [(raw, lines.get(raw.source_id, frozenset()), config) for raw in docs]
    if pool is not None:
        outcomes = pool.map(prepare_remote, jobs, config.timeout)
    else:
        outcomes = [prepare_document(*job) for job in jobs]
    settled = [settle(raw, outcome) for raw, outcome in zip(docs, outcomes, strict=True)]
    articles = [p for p in settled if isinstance(p, Prepared)]
    bad = [q for q in settled if isinstance(q, Quarantined)]
    # The serial stages set aside clean failures before normalize ones; keep that order.
    bad.sort(key=lambda q: q.stage != "clean")
    return articles, bad


class Batch:
    """Documents handed to a task as one value that Prefect does not walk and Dask does not
    rebuild (Dask 2026.8 turns Prefect's `quote`, a namedtuple, into nested tuples)."""

    __slots__ = ("docs", "repeated")

    def __init__(self, docs: Sequence[RawDocument], repeated: Mapping[str, frozenset[str]]) -> None:
        self.docs = list(docs)
        self.repeated = dict(repeated)


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_batch(
    batch: Batch, config: PrepareConfig, pool: DocumentPool | None
) -> tuple[list[Prepared], list[Quarantined]]:
    """Clean, detect language, normalize and sign a batch, across the pool's workers if given."""
    docs = batch.docs
    articles, bad = prepare_all(docs, config, pool, batch.repeated)
    how = "in process, no time limit" if pool is None else f"{pool.size} workers, {config.timeout:g} s limit"
    run_logger().info(
        "prepared %d articles from %d documents, %d set aside (%s)", len(articles), len(docs), len(bad), how
    )
    return articles, bad


def task_runner(dask_address: str | None) -> TaskRunner[Any]:
    """Return the flow's task runner: the Dask cluster at dask_address, else threads."""
    if dask_address:
        from prefect_dask.task_runners import DaskTaskRunner  # late: distributed is slow to import

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner()
