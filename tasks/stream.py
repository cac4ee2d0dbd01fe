"""Streaming a run's jobs to staging: the next chunk is fetched while one is prepared."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import quote

from tasks.fetch import fetch_chunk
from tasks.fetch.pages import Fetched, Job, chunks
from tasks.fetch.polite import Fetcher
from tasks.pool import DocumentPool
from tasks.prepare import Batch, PrepareConfig, prepare_batch
from tasks.records import Deferred, Quarantined
from tasks.staging import stage_batch

T = TypeVar("T")


def as_is(value: T) -> T:
    """Return value wrapped so Prefect passes it as is: walking a large batch costs seconds."""
    return cast(T, quote(value))


@dataclass
class Streamed:
    """What streaming a run leaves in memory: counts and the items set aside, no documents."""

    documents: int = 0
    fetch_faults: list[Quarantined] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)  # fetch faults that may pass later
    dropped: list[Quarantined] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Engine:
    """What streams a run: its fetcher, worker pool, the runner that prepares, the batch size."""

    fetcher: Fetcher
    pool: DocumentPool | None
    runner: TaskRunner[Any]
    batch_size: int


def stream_to_staging(jobs: Sequence[Job], engine: Engine, config: PrepareConfig, folder: Path) -> Streamed:
    """Fetch the jobs chunk by chunk, the next chunk while one is prepared, and stage each
    prepared batch in folder."""
    todo = chunks(jobs, engine.batch_size)

    def fetch(chunk: list[Job]) -> PrefectFuture[Fetched]:
        # On the flow's threads, never on Dask: the run's host gates live in this process.
        return fetch_chunk.submit(as_is(engine.fetcher), as_is(chunk), config.now)

    streamed = Streamed()
    pending = deque([fetch(todo[0])] if todo else [])
    for index in range(len(todo)):
        if index + 1 < len(todo):
            pending.append(fetch(todo[index + 1]))  # fetched while this chunk is prepared
        fetched = pending.popleft().result()
        articles, dropped = engine.runner.submit(
            prepare_batch,
            parameters={
                "batch": Batch(fetched.documents),
                "config": config,
                "pool": engine.pool,
            },
        ).result()
        stage_batch(folder / f"{index:06d}.arrow", as_is(articles))
        streamed.documents += len(fetched.documents)
        streamed.fetch_faults += fetched.quarantined
        streamed.deferred += fetched.deferred
        streamed.dropped += dropped
        # Prefect's futures and states hold task results in reference cycles, which only
        # the cycle collector frees: left to it, a run keeps most of its batches' bodies.
        gc.collect()
    return streamed
