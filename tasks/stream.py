"""Streaming a run's jobs to staging: documents are prepared as they arrive, staged in order."""

from __future__ import annotations

import contextvars
import gc
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import quote

from tasks.fetch import fetch_chunk
from tasks.fetch.pages import Fetched, Job, chunks, fetch_job, in_host_turns
from tasks.fetch.polite import Fetcher
from tasks.log import run_logger
from tasks.pool import DocumentPool
from tasks.prepare import Batch, PrepareConfig, prepare_batch, prepare_remote, repeated_in_seeds, settle
from tasks.progress import progress_artifact
from tasks.records import Deferred, FileJob, Prepared, Quarantined, RawDocument
from tasks.staging import stage_batch
from tasks.tally import Tally, current_tally

T = TypeVar("T")
POLL = 0.02  # seconds between looks for arrivals while a worker idles and others run


def as_is(value: T) -> T:
    """Return value wrapped so Prefect passes it as is: walking a large batch costs seconds."""
    return cast(T, quote(value))


@dataclass
class Streamed:
    """What streaming a run leaves in memory: counts and the items set aside, no documents. The
    counts a display and the progress artifact show as the stream goes are in `tally` (a
    terminal display's own, when one watches the run: tasks/tally.py)."""

    documents: int = 0
    fetch_faults: list[Quarantined] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)  # fetch faults that may pass later
    dropped: list[Quarantined] = field(default_factory=list)
    peak_in_flight: int = 0  # most jobs at once between their fetch's start and their outcome
    tally: Tally = field(default_factory=Tally)

    @property
    def settled(self) -> int:
        """Return how many jobs reached their outcome, in order (the progress artifact's count)."""
        return self.tally.prepared

    @property
    def staged(self) -> int:
        """Return how many articles were staged."""
        return self.tally.staged

    def add(self, outcome: Prepared | Quarantined | Deferred, fetched: bool) -> Prepared | None:
        """Count one job's outcome in order; return it when it is an article to stage."""
        self.tally.prepared += 1
        if isinstance(outcome, Deferred):
            self.deferred.append(outcome)
        elif isinstance(outcome, Quarantined):
            (self.dropped if fetched else self.fetch_faults).append(outcome)
        else:
            return outcome
        return None


@dataclass(frozen=True, slots=True)
class Engine:
    """What streams a run: its fetcher, worker pool, the runner that prepares, the batch size
    (documents in flight at most, and articles a staged file holds)."""

    fetcher: Fetcher
    pool: DocumentPool | None
    runner: TaskRunner[Any]
    batch_size: int
    # Every seed file listed, unchanged ones too: a source's template lines are the lines its
    # files repeat, and a run that prepares one new file must still see them in the others.
    seed_files: tuple[FileJob, ...] = ()
    batches_at_once: int = 1  # without the pool: prepare tasks in flight at once (a Dask cluster's)

    def repeated(self, jobs: Sequence[Job]) -> dict[str, frozenset[str]]:
        """Return, per seed source, the lines its plain-text files repeat (template lines)."""
        files = self.seed_files or tuple(j for j in jobs if isinstance(j, FileJob))
        return repeated_in_seeds(files, self.fetcher.policy.max_bytes)


Arrival = tuple[int, RawDocument | Quarantined | Deferred | BaseException]


class _Window:
    """At most `size` jobs between the start of their fetch and their outcome, counted."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._slots = threading.Semaphore(self.size)
        self._lock = threading.Lock()
        self.held = self.peak = 0

    def enter(self, stop: threading.Event) -> bool:
        """Wait for a free slot and take it; return False when the stream stopped first."""
        while not self._slots.acquire(timeout=0.5):
            if stop.is_set():
                return False
        with self._lock:
            self.held += 1
            self.peak = max(self.peak, self.held)
        return not stop.is_set()

    def leave(self) -> None:
        with self._lock:
            self.held -= 1
        self._slots.release()


def _fetch_all(
    jobs: Sequence[Job],
    fetcher: Fetcher,
    config: PrepareConfig,
    window: _Window,
    arrivals: queue.Queue[Arrival],
) -> Callable[[bool], None]:
    """Start fetching the jobs in order on the fetcher's threads, each once the window has
    room; each outcome arrives as it is ready. Return what stops the fetching, waiting for the
    fetches in flight or not."""
    stop = threading.Event()
    threads = ThreadPoolExecutor(max(1, fetcher.policy.workers), thread_name_prefix="fetch")

    def arrive(index: int, future: Future[RawDocument | Quarantined | Deferred]) -> None:
        if future.cancelled():  # the stream stopped: nobody waits for it
            return
        error = future.exception()
        arrivals.put((index, error if error is not None else future.result()))

    def feed() -> None:
        for index, job in enumerate(jobs):
            if not window.enter(stop):
                return
            future = threads.submit(fetch_job, job, fetcher, now=config.now)
            future.add_done_callback(partial(arrive, index))

    feeder = threading.Thread(target=feed, name="fetch-feeder", daemon=True)
    feeder.start()

    def halt(wait: bool) -> None:
        stop.set()
        feeder.join()
        threads.shutdown(wait=wait, cancel_futures=True)

    return halt


def run_stream(
    jobs: Sequence[Job],
    engine: Engine,
    config: PrepareConfig,
    stage: Callable[[list[Prepared]], None],
    streamed: Streamed | None = None,
) -> Streamed:
    """Fetch the jobs, prepare each document on the pool as it arrives, and hand the articles
    to stage in batches, in job order; at most engine.batch_size jobs are in flight. Counts go
    to `streamed` as they happen (a new one if none is given), which is returned."""
    streamed = streamed if streamed is not None else Streamed()
    tally = streamed.tally
    tally.jobs = len(jobs)
    assert engine.pool is not None, "the stream prepares on the run's worker pool"
    if not jobs:  # nothing to wait for the workers for (a re-run that finds nothing new)
        return streamed
    repeated = engine.repeated(jobs)
    window = _Window(engine.batch_size)
    arrivals: queue.Queue[Arrival] = queue.Queue()
    halt = _fetch_all(jobs, engine.fetcher, config, window, arrivals)
    stager = _Stager(stage, tally)
    ready: dict[int, tuple[Prepared | Quarantined | Deferred, bool]] = {}
    waiting: deque[tuple[int, RawDocument]] = deque()  # fetched, for the next idle worker
    started: dict[int, RawDocument] = {}
    articles: list[Prepared] = []
    emitted = 0
    try:
        with engine.pool.lane() as lane:
            while emitted < len(jobs):
                idle_work = not waiting and not lane.running
                for index, item in _arrived(arrivals, block=idle_work):
                    if isinstance(item, BaseException):
                        raise item
                    tally.fetched += 1
                    if isinstance(item, RawDocument):
                        streamed.documents += 1
                        waiting.append((index, item))
                    else:
                        ready[index] = (item, False)
                while waiting and lane.idle:
                    index, raw = waiting.popleft()
                    started[index] = raw
                    lane.start(
                        index,
                        prepare_remote,
                        (raw, repeated.get(raw.source_id, frozenset()), config),
                        config.timeout,
                    )
                if lane.running:
                    pause = POLL if lane.idle and not waiting else None
                    for key, outcome in lane.collect(pause):
                        index = cast(int, key)
                        ready[index] = (settle(started.pop(index), outcome), True)
                while emitted in ready:
                    article = streamed.add(*ready.pop(emitted))
                    emitted += 1
                    window.leave()
                    if article is not None:
                        articles.append(article)
                    if len(articles) >= window.size:
                        stager.hand_over(articles)
                        articles = []
        if articles:
            stager.hand_over(articles)
        stager.finish()
    except BaseException:
        # Interrupted (Ctrl-C) or failed: a slow host's fetches in flight are not waited for.
        stager.close()
        halt(False)
        raise
    stager.close()
    halt(True)
    streamed.peak_in_flight = window.peak
    return streamed


class _Stager:
    """Stages batches one at a time on a thread of its own, in the order handed over, so that
    the stream goes on feeding the workers while a batch is written (a second or so each)."""

    def __init__(self, stage: Callable[[list[Prepared]], None], tally: Tally) -> None:
        self._stage, self._tally = stage, tally
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="stage")
        self._pending: Future[None] | None = None

    def _run(self, articles: list[Prepared]) -> None:
        self._stage(articles)
        self._tally.staged += len(articles)

    def hand_over(self, articles: list[Prepared]) -> None:
        """Stage articles once the batch before them is staged; raise what staging that one raised."""
        self.finish()
        # In the caller's context: staging is a Prefect task run, a child of the caller's.
        self._pending = self._thread.submit(contextvars.copy_context().run, self._run, articles)

    def finish(self) -> None:
        """Wait until every batch handed over is staged; raise what staging raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Let the batch being staged finish (a staged file is whole or absent), stage no more."""
        self._thread.shutdown(wait=True, cancel_futures=True)


def _arrived(arrivals: queue.Queue[Arrival], *, block: bool) -> list[Arrival]:
    """Return the fetch outcomes that arrived, waiting for one when block is set."""
    got = []
    try:
        got.append(arrivals.get(timeout=1.0) if block else arrivals.get_nowait())
        while True:
            got.append(arrivals.get_nowait())
    except queue.Empty:
        return got


@task(name="stream", cache_policy=NO_CACHE)
def stream_jobs(
    jobs: list[Job], engine: Engine, config: PrepareConfig, folder: Path, streamed: Streamed
) -> Streamed:
    """Fetch, prepare and stage the run's jobs as one stream into `streamed`, logging each staged
    batch."""
    logger = run_logger()
    staged: list[int] = []

    def stage(articles: list[Prepared]) -> None:
        stage_batch(folder / f"{len(staged):06d}.arrow", as_is(articles))
        staged.append(len(articles))
        logger.info("batch %d staged: %d articles, %d so far", len(staged), len(articles), sum(staged))
        gc.collect()  # Prefect's task states hold results in cycles only the collector frees

    run_stream(jobs, engine, config, stage, streamed)
    logger.info(
        "%d jobs: %d documents prepared on %d workers (%g s limit each), %d articles staged, "
        "%d set aside, %d left for the next run; at most %d jobs in flight",
        len(jobs),
        streamed.documents,
        engine.pool.size if engine.pool else 0,
        config.timeout,
        sum(staged),
        len(streamed.fetch_faults) + len(streamed.dropped),
        len(streamed.deferred),
        streamed.peak_in_flight,
    )
    return streamed


def stream_to_staging(jobs: Sequence[Job], engine: Engine, config: PrepareConfig, folder: Path) -> Streamed:
    """Fetch, prepare and stage the jobs, hosts taking turns: as one stream on the run's worker
    pool, or in batches, one prepare task each, where there is none (Dask, or no workers)."""
    ordered = in_host_turns(jobs)
    # Counted as the stream goes: the progress artifact reads it, a terminal display its tally.
    streamed = Streamed(tally=current_tally())
    with progress_artifact(streamed, len(ordered)):
        if engine.pool is not None:
            return stream_jobs(as_is(ordered), as_is(engine), config, folder, as_is(streamed))
        return _in_batches(ordered, engine, config, folder, streamed)


def _in_batches(
    jobs: Sequence[Job], engine: Engine, config: PrepareConfig, folder: Path, streamed: Streamed
) -> Streamed:
    """Fetch the jobs chunk by chunk, the next chunk while others are prepared, prepare up to
    engine.batches_at_once chunks at a time (one task each), and stage each prepared batch in
    folder, in order."""
    todo = chunks(jobs, engine.batch_size)
    repeated = engine.repeated(jobs)
    tally = streamed.tally
    tally.jobs = len(jobs)
    fetching: deque[tuple[int, PrefectFuture[Fetched]]] = deque()
    preparing: deque[tuple[int, Fetched, PrefectFuture[tuple[list[Prepared], list[Quarantined]]]]] = deque()

    upcoming = iter(enumerate(todo))

    def fetch_next() -> None:
        ahead = next(upcoming, None)
        if ahead is not None:
            index, chunk = ahead
            # On the flow's threads, never on Dask: the run's host gates live in this process.
            fetching.append((index, fetch_chunk.submit(as_is(engine.fetcher), as_is(chunk), config.now)))

    fetch_next()
    for _ in range(len(todo)):
        while fetching and len(preparing) < max(1, engine.batches_at_once):
            index, future = fetching.popleft()
            fetched = future.result()
            tally.fetched += len(todo[index])
            batch = Batch(fetched.documents, repeated)
            task = engine.runner.submit(
                prepare_batch, parameters={"batch": batch, "config": config, "pool": engine.pool}
            )
            preparing.append((index, fetched, task))
            fetch_next()  # fetched while the batches in flight are prepared
        index, fetched, task = preparing.popleft()
        articles, dropped = task.result()
        stage_batch(folder / f"{index:06d}.arrow", as_is(articles))
        tally.prepared += len(todo[index])
        tally.staged += len(articles)
        streamed.documents += len(fetched.documents)
        streamed.fetch_faults += fetched.quarantined
        streamed.deferred += fetched.deferred
        streamed.dropped += dropped
        # Prefect's futures and states hold task results in reference cycles, which only
        # the cycle collector frees: left to it, a run keeps most of its batches' bodies.
        del fetched, task, articles
        gc.collect()
    return streamed
