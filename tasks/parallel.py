"""Preparing batches in parallel: clean, language, normalize and sign in killable worker processes."""

from __future__ import annotations

import atexit
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tasks.clean import clean_document, repeated_by_source
from tasks.dedup import minhash
from tasks.language import detect_language
from tasks.normalize import to_article
from tasks.records import Article, Quarantined, RawDocument
from tasks.runlog import run_logger
from tasks.settings import Settings


@dataclass(frozen=True, slots=True)
class PrepareConfig:
    """What preparing one document needs besides the document: small enough to send each time."""

    now: datetime
    language_threshold: float
    language_sample_chars: int
    min_words: int

    @classmethod
    def of(cls, settings: Settings, now: datetime) -> PrepareConfig:
        return cls(now, settings.language_threshold, settings.language_sample_chars,
                   settings.min_words)


def prepare_document(
    raw: RawDocument, repeated: frozenset[str], config: PrepareConfig
) -> Article | Quarantined:
    """Return the signed article made from a raw document, or its quarantine record."""
    cleaned = clean_document(raw, repeated)
    if isinstance(cleaned, Quarantined):
        return cleaned
    guess = detect_language(cleaned.text, threshold=config.language_threshold,
                            sample_chars=config.language_sample_chars)
    article = to_article(cleaned, guess, now=config.now, min_words=config.min_words)
    if isinstance(article, Quarantined):
        return article
    return replace(article, signature=minhash(article.text))


def _prepare_remote(job: tuple[RawDocument, frozenset[str], PrepareConfig]) -> Article | Quarantined:
    result = prepare_document(*job)
    # The caller still holds the body: sending it back would double the pipe traffic.
    return replace(result, raw_body=b"") if isinstance(result, Article) else result


@dataclass(frozen=True, slots=True)
class Failed:
    """A job the pool gave up on: 'timeout' (worker killed) or 'crashed' (worker died)."""

    reason: str
    detail: str


def _serve(conn: Connection) -> None:
    """Worker loop: run (function, argument) jobs until the pipe closes or None arrives."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        fn, arg = job
        try:
            outcome: tuple[str, Any] = ("ok", fn(arg))
        except Exception as exc:  # re-raised in the parent, where the task's retry policy lives
            outcome = ("error", exc)
        try:
            conn.send(outcome)
        except Exception as exc:  # an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class DocumentPool:
    """Worker processes that run jobs in input order, each under a time limit past which the
    worker is killed and replaced; unlike ProcessPoolExecutor, one stuck job breaks nothing."""

    def __init__(self, workers: int) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported trafilatura, langdetect and numpy once.
        self._ctx.set_forkserver_preload(["tasks.parallel"])
        self._workers = [_Worker(self._ctx) for _ in range(max(1, workers))]
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._workers)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], timeout: float) -> list[Any]:
        """Return fn(item) for each item in order, or a Failed where it timed out or crashed."""
        with self._lock:
            return self._map(fn, items, timeout)

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any], timeout: float) -> list[Any]:
        results: list[Any] = [None] * len(items)
        todo = deque(enumerate(items))
        idle = list(self._workers)
        running: dict[Connection, tuple[_Worker, int, float]] = {}
        try:
            while todo or running:
                while todo and idle:
                    worker = idle.pop()
                    index, item = todo.popleft()
                    try:
                        worker.conn.send((fn, item))
                    except OSError:  # the worker died between jobs
                        results[index] = Failed("crashed", f"exit code {worker.process.exitcode}")
                        idle.append(self._replace(worker))
                        continue
                    running[worker.conn] = (worker, index, time.monotonic() + timeout)
                if not running:
                    continue
                first = min(deadline for _, _, deadline in running.values())
                for ready in wait(list(running), timeout=max(0.0, first - time.monotonic())):
                    conn = cast(Connection, ready)
                    worker, index, _ = running.pop(conn)
                    try:
                        status, value = conn.recv()
                    except (EOFError, OSError):
                        results[index] = Failed("crashed", f"exit code {worker.process.exitcode}")
                        idle.append(self._replace(worker))
                        continue
                    if status == "error":
                        raise value
                    results[index] = value
                    idle.append(worker)
                now = time.monotonic()
                for conn, (worker, index, deadline) in list(running.items()):
                    if deadline <= now:
                        del running[conn]
                        results[index] = Failed("timeout", f"no result within {timeout:g} s")
                        idle.append(self._replace(worker))
        except BaseException:
            # Jobs still running would answer a later map: start those workers afresh.
            for worker, _, _ in running.values():
                self._replace(worker)
            raise
        return results

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self._ctx)
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.kill()
        self._workers = []


_pools: dict[int, DocumentPool] = {}
_pools_lock = threading.Lock()


def shared_pool(workers: int) -> DocumentPool:
    """Return this process's pool of that many workers, started on first use."""
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = DocumentPool(workers)
        return _pools[workers]


@atexit.register
def _close_pools() -> None:
    for pool in _pools.values():
        pool.close()
    _pools.clear()


def can_fork_workers() -> bool:
    """Return whether this process may start worker processes (daemonic ones, e.g. Dask's, may not)."""
    return not multiprocessing.current_process().daemon


def prepare_all(
    docs: Sequence[RawDocument], config: PrepareConfig, *, workers: int, timeout: float
) -> tuple[list[Article], list[Quarantined]]:
    """Return a batch's articles in input order and the documents set aside, clean stage first."""
    repeated = repeated_by_source(docs)
    jobs = [(raw, repeated.get(raw.source_id, frozenset()), config) for raw in docs]
    if workers > 0 and can_fork_workers():
        outcomes = shared_pool(workers).map(_prepare_remote, jobs, timeout)
    else:
        outcomes = [prepare_document(*job) for job in jobs]
    articles: list[Article] = []
    bad: list[Quarantined] = []
    for raw, outcome in zip(docs, outcomes, strict=True):
        if isinstance(outcome, Failed):
            bad.append(Quarantined(raw.source_id, raw.uri, "clean", f"extract_{outcome.reason}",
                                   f"{outcome.detail}; worker replaced"))
        elif isinstance(outcome, Quarantined):
            bad.append(outcome)
        else:
            articles.append(replace(outcome, raw_body=raw.body))
    # The serial stages set aside clean failures before normalize ones; keep that order.
    bad.sort(key=lambda q: q.stage != "clean")
    return articles, bad


class Batch:
    """Documents handed to a task as one value that Prefect does not walk and Dask does not
    rebuild (Dask 2026.8 turns Prefect's `quote`, a namedtuple, into nested tuples)."""

    __slots__ = ("docs",)

    def __init__(self, docs: Sequence[RawDocument]) -> None:
        self.docs = list(docs)


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_batch(
    batch: Batch, config: PrepareConfig, workers: int, timeout: float
) -> tuple[list[Article], list[Quarantined]]:
    """Clean, detect language, normalize and sign a batch across worker processes."""
    inline = workers <= 0 or not can_fork_workers()
    docs = batch.docs
    articles, bad = prepare_all(docs, config, workers=workers, timeout=timeout)
    run_logger().info(
        "prepared %d articles from %d documents, %d set aside (%s)", len(articles), len(docs),
        len(bad), "in process, no time limit" if inline else f"{workers} workers, {timeout:g} s limit",
    )
    return articles, bad


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """Return the flow's task runner: the Dask cluster at settings.dask_address, else threads."""
    if settings.dask_address:
        from prefect_dask import DaskTaskRunner  # imported late: distributed is slow to import

        return DaskTaskRunner(address=settings.dask_address)
    return ThreadPoolTaskRunner()
