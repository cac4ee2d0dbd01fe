"""The ingest flow: fetch, clean, detect language, normalize, deduplicate and load one run."""

from __future__ import annotations

import gc
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from flows.events import emit_run_completed, emit_run_failed
from tasks.fetch import Fetched, Listing, chunks, fetch_chunk, list_web, settle_feeds
from tasks.files import list_seeds
from tasks.http import FetchPolicy
from tasks.load import feed_state, load
from tasks.parallel import Batch, PrepareConfig, prepare_batch, task_runner
from tasks.polite import fetch_session
from tasks.records import FileJob, PageJob, Quarantined
from tasks.report import article_rows, summarize, summary_markdown
from tasks.runs import finish_run, start_run
from tasks.settings import Settings
from tasks.single import choose_sources
from tasks.stage import stage_batch, staging_area
from tasks.writer import (
    SLOT_WAIT_SECONDS,
    publish,
    seed_writer,
    transient,
    warehouse_slot,
    writer_path,
)

T = TypeVar("T")


def _q(value: T) -> T:
    """Return value wrapped so Prefect passes it as is: walking a large batch costs seconds."""
    return cast(T, quote(value))


def settings_for(db: str | None, seeds: str | None, config: str | None) -> Settings:
    """Return the settings from the environment, overridden by the flow's parameters."""
    overrides = {"db": db, "seeds": seeds, "config": config}
    return Settings().model_copy(update={k: Path(v) for k, v in overrides.items() if v})


# Warehouse I/O faults (a lock, a full disk) may pass; bad data or a missing limit will not.
WAREHOUSE_RETRIES = dict(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2),
                         retry_jitter_factor=0.5, retry_condition_fn=transient,
                         timeout_seconds=SLOT_WAIT_SECONDS + 600)


@task(name="open-run", cache_policy=NO_CACHE, **WAREHOUSE_RETRIES)  # type: ignore[call-overload]
def open_run(db: Path, run_id: str, now: datetime) -> frozenset[str]:
    """Apply the schema to the writer file, record the run as started; return the stored keys."""
    with warehouse_slot(writer_path(db)):
        seed_writer(db, writer_path(db))
        return start_run(writer_path(db), run_id, str(runtime.flow_run.id or "") or None, now)


@task(name="close-run", cache_policy=NO_CACHE, **WAREHOUSE_RETRIES)  # type: ignore[call-overload]
def close_run(db: Path, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Record the run's end with its summary, then publish the warehouse to its readers."""
    with warehouse_slot(writer_path(db)):
        finish_run(writer_path(db), run_id, status, datetime.now(UTC), summary)
        publish(writer_path(db), db)


def _mark_failed(flow: Any, flow_run: Any, state: Any) -> None:
    """Record a failed or crashed run in the warehouse, with the reason Prefect gives."""
    params = flow_run.parameters or {}
    settings = settings_for(params.get("db"), params.get("seeds"), params.get("config"))
    reason = state.message or state.name
    emit_run_failed(str(flow_run.id), reason)
    writer = writer_path(settings.db)
    if not writer.exists():
        return  # the run failed before it opened the warehouse: nothing to record
    try:
        # A short wait: a crashed run's own load thread may still hold the lock in this process.
        with warehouse_slot(writer, timeout=60):
            finish_run(writer, str(flow_run.id), "failed", datetime.now(UTC), {"error": reason})
            publish(writer, settings.db)
    except (duckdb.Error, OSError) as exc:  # TimeoutError included
        # The warehouse itself may be what failed; the Prefect UI still shows the state.
        logging.getLogger("newsflow").warning("could not record failed run: %s", exc)


@dataclass
class Streamed:
    """What streaming a run leaves in memory: counts and the items set aside, no documents."""

    documents: int = 0
    fetch_faults: list[Quarantined] = field(default_factory=list)
    dropped: list[Quarantined] = field(default_factory=list)


def _stage_all(
    jobs: list[FileJob | PageJob], folder: Path, run_id: str, settings: Settings, now: datetime
) -> Streamed:
    """Fetch the jobs chunk by chunk, the next chunk while one is prepared, and stage each
    prepared batch in folder."""
    todo = chunks(jobs, settings.batch_size)
    policy = FetchPolicy.from_settings(settings)

    def fetch(chunk: list[FileJob | PageJob]) -> PrefectFuture[Fetched]:
        # On the flow's threads, never on Dask: the run's host gates live in this process.
        return fetch_chunk.submit(run_id, _q(chunk), now, policy, settings.fetch_workers)

    streamed = Streamed()
    # The runner is chosen here, not on the decorator, so that NEWSFLOW_DASK_ADDRESS reaches
    # every entry point (CLI, served and work-pool deployments) with no code change.
    with task_runner(settings) as runner:
        pending = deque([fetch(todo[0])] if todo else [])
        for index in range(len(todo)):
            if index + 1 < len(todo):
                pending.append(fetch(todo[index + 1]))  # fetched while this chunk is prepared
            _prepare_and_stage(pending.popleft(), runner, folder / f"{index:06d}.arrow",
                               streamed, settings, now)
            # Prefect's futures and states hold task results in reference cycles, which only
            # the cycle collector frees: left to it, a run keeps most of its batches' bodies.
            gc.collect()
    return streamed


def _prepare_and_stage(
    ready: PrefectFuture[Fetched], runner: TaskRunner[Any], path: Path, streamed: Streamed,
    settings: Settings, now: datetime,
) -> None:
    """Prepare one fetched chunk and stage its articles; only counts and faults stay behind."""
    fetched = ready.result()
    articles, dropped = runner.submit(prepare_batch, parameters={
        "batch": Batch(fetched.documents), "config": PrepareConfig.of(settings, now),
        "workers": settings.workers, "timeout": settings.extract_timeout,
    }).result()
    stage_batch(path, _q(articles))
    streamed.documents += len(fetched.documents)
    streamed.fetch_faults += fetched.quarantined
    streamed.dropped += dropped


@flow(
    name="newsflow-ingest",
    timeout_seconds=6 * 3600,
    on_failure=[_mark_failed],
    on_crashed=[_mark_failed],
)
def ingest(
    db: str | None = None,
    seeds: str | None = None,
    config: str | None = None,
    feeds: list[str] | None = None,
    urls: list[str] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Ingest every configured source once, or only `source` (a file, file:// URI or URL);
    return the run's summary counts."""
    settings = settings_for(db, seeds, config)
    now = datetime.now(UTC)
    run_id = str(runtime.flow_run.id or uuid.uuid4())
    plan, one_file = choose_sources(settings.seeds, settings.sources_file(), feeds or [], urls or [],
                                    source)
    known = open_run(settings.db, run_id, now)

    with staging_area(settings.db, run_id) as folder, fetch_session(run_id):
        files = list_seeds(plan.seeds, one_file) if plan.seeds else []
        listing = list_web(
            run_id, plan.feeds, plan.pages, _q(known), now, FetchPolicy.from_settings(settings),
            settings.max_entries_per_feed, settings.fetch_workers,
            _q(feed_state(writer_path(settings.db))),
        ) if plan.feeds or plan.pages else Listing()
        streamed = _stage_all([*files, *listing.jobs], folder, run_id, settings, now)
        quarantined = listing.quarantined + streamed.fetch_faults + streamed.dropped
        result = load(writer_path(settings.db), run_id, folder, _q(quarantined), plan.all(), now,
                      settings.near_threshold,
                      feed_health=_q(settle_feeds(listing, streamed.fetch_faults)))
    summary = summarize(
        documents=streamed.documents, skipped_known=listing.skipped_known,
        feeds_unchanged=listing.feeds_unchanged, feeds_deferred=listing.feeds_deferred,
        new=result.new, languages=result.languages, duplicate_kinds=result.duplicate_kinds,
        unchanged=result.unchanged, quarantined=quarantined,
    )
    close_run(settings.db, run_id, "completed", summary)
    create_markdown_artifact(summary_markdown(summary, run_id), key="newsflow-run-summary",
                             description="Counts per stage, languages, duplicates, quarantine")
    create_table_artifact(article_rows(result.first_new), key="newsflow-new-articles",
                          description="The run's new articles (first 50)")
    emit_run_completed(run_id, summary, spike_share=settings.quarantine_spike, source=source)
    get_run_logger().info("run %s: %s", run_id, summary)
    return summary
