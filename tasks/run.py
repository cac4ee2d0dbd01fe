"""A run's warehouse bookends: open it (schema, ledger row, stored keys), close it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
from prefect import runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from tasks.deferred import read_deferred
from tasks.fetch.feedhealth import read_feed_health
from tasks.fetch.files import read_seed_files
from tasks.fetch.listing import Opened
from tasks.records import Run, Source
from tasks.report import RunSummary
from warehouse.lake import compact
from warehouse.ledger import finish_run, start_run, stored_fetched
from warehouse.writer import SLOT_WAIT_SECONDS, Warehouse, transient

# Warehouse I/O faults (a lock, a full disk) may pass; bad data will not.
_TIMEOUT = SLOT_WAIT_SECONDS + 600


@task(
    name="open-run",
    cache_policy=NO_CACHE,
    retries=3,
    retry_jitter_factor=0.5,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=transient,
    timeout_seconds=_TIMEOUT,
)
def open_run(store: Warehouse, run: Run, sources: list[Source]) -> Opened:
    """Apply the schema and record the run as started; return what the warehouse holds that the
    run needs before it fetches."""
    with store.locked(), store.connect() as con:
        known = start_run(con, run.run_id, str(runtime.flow_run.id or "") or None, run.now)
        waiting = read_deferred(con, [s.source_id for s in sources])
        return Opened(known, read_feed_health(con), waiting, read_seed_files(con), stored_fetched(con))


@task(
    name="close-run",
    cache_policy=NO_CACHE,
    retries=3,
    retry_jitter_factor=0.5,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=transient,
    timeout_seconds=_TIMEOUT,
)
def close_run(store: Warehouse, run: Run, summary: RunSummary, snapshot: int | None, upkeep: Upkeep) -> None:
    """Record the run's end with its summary and the lake snapshot of its rows; compact the lake
    when its files have piled up."""
    with store.locked(), store.connect() as con:
        finish_run(con, run.run_id, "completed", datetime.now(UTC), summary.to_dict(), snapshot)
        done = compact(con, keep_days=upkeep.keep_days, min_files=upkeep.min_files)
    if done:
        logging.getLogger("newsflow").info("compacted the lake: %s", done)


@dataclass(frozen=True, slots=True)
class Upkeep:
    """When a run compacts the lake, and how far back time travel reaches."""

    keep_days: int
    min_files: int


def record_failure(store: Warehouse, run_id: str, reason: str) -> None:
    """Record a failed or crashed run in the warehouse, when the run got as far as opening it."""
    if not store.exists():
        return  # the run failed before it opened the warehouse: nothing to record
    try:
        # A short wait: a crashed run's own load thread may still hold the lock in this process.
        with store.locked(timeout=60), store.connect() as con:
            finish_run(con, run_id, "failed", datetime.now(UTC), {"error": reason})
    except (duckdb.Error, OSError) as exc:  # TimeoutError included
        # The warehouse itself may be what failed; the Prefect UI still shows the state.
        logging.getLogger("newsflow").warning("could not record failed run: %s", exc)
