"""The ingest flow: fetch, clean, detect language, normalize, deduplicate and load one run."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from flows.events import emit_run_completed, emit_run_failed
from tasks.fetch import Fetched, fetch_web, read_seeds
from tasks.http import FetchPolicy
from tasks.load import feed_state, finish_run, load, start_run
from tasks.parallel import Batch, PrepareConfig, prepare_batch, task_runner
from tasks.records import Article, Quarantined, RawDocument
from tasks.report import article_rows, summarize, summary_markdown
from tasks.settings import Settings
from tasks.single import choose_sources, read_seed_file
from tasks.writer import (
    SLOT_WAIT_SECONDS,
    ensure_limit,
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
    if ensure_limit():
        get_run_logger().info("created the global concurrency limit for the warehouse")
    with warehouse_slot():
        seed_writer(db, writer_path(db))
        return start_run(writer_path(db), run_id, str(runtime.flow_run.id or "") or None, now)


@task(name="close-run", cache_policy=NO_CACHE, **WAREHOUSE_RETRIES)  # type: ignore[call-overload]
def close_run(db: Path, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Record the run's end with its summary, then publish the warehouse to its readers."""
    with warehouse_slot():
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
        with warehouse_slot():
            finish_run(writer, str(flow_run.id), "failed", datetime.now(UTC), {"error": reason})
            publish(writer, settings.db)
    except (duckdb.Error, OSError, ConcurrencySlotAcquisitionError) as exc:
        # The warehouse itself may be what failed; the Prefect UI still shows the state.
        logging.getLogger("newsflow").warning("could not record failed run: %s", exc)


def _prepare_all(
    documents: list[RawDocument], settings: Settings, now: datetime
) -> tuple[list[Article], list[Quarantined]]:
    """Run every batch on the chosen task runner, all submitted before any is awaited."""
    config = PrepareConfig.of(settings, now)
    articles: list[Article] = []
    dropped: list[Quarantined] = []
    # The runner is chosen here, not on the decorator, so that NEWSFLOW_DASK_ADDRESS reaches
    # every entry point (CLI, served and work-pool deployments) with no code change.
    with task_runner(settings) as runner:
        futures = [
            runner.submit(prepare_batch, parameters={
                "batch": Batch(documents[start : start + settings.batch_size]), "config": config,
                "workers": settings.workers, "timeout": settings.extract_timeout,
            })
            for start in range(0, len(documents), settings.batch_size)
        ]
        for future in futures:
            ready, bad = future.result()
            articles += ready
            dropped += bad
    return articles, dropped


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

    fetched: list[Fetched] = []
    if plan.seeds and one_file:
        fetched.append(read_seed_file(one_file, plan.seeds, now, settings.max_bytes))
    elif plan.seeds:
        fetched.append(read_seeds(Path(plan.seeds.uri), plan.seeds, now, settings.max_bytes))
    if plan.feeds or plan.pages:
        fetched.append(fetch_web(
            plan.feeds, plan.pages, _q(known), now, settings.user_agent, settings.http_timeout,
            settings.max_bytes, settings.max_entries_per_feed, settings.fetch_workers,
            policy=FetchPolicy.from_settings(settings),
            health=_q(feed_state(writer_path(settings.db))),
        ))
    documents = [d for f in fetched for d in f.documents]
    quarantined = [q for f in fetched for q in f.quarantined]

    articles, dropped = _prepare_all(documents, settings, now)
    quarantined += dropped

    result = load(writer_path(settings.db), run_id, _q(articles), _q(quarantined), plan.all(), now,
                  settings.near_threshold,
                  feed_health=_q([h for f in fetched for h in f.feed_health]))
    summary = summarize(
        documents=len(documents), skipped_known=sum(f.skipped_known for f in fetched),
        feeds_unchanged=sum(f.feeds_unchanged for f in fetched),
        feeds_deferred=sum(f.feeds_deferred for f in fetched),
        new=result.new, duplicates=result.duplicates, unchanged=result.unchanged,
        quarantined=quarantined,
    )
    close_run(settings.db, run_id, "completed", summary)
    create_markdown_artifact(summary_markdown(summary, run_id), key="newsflow-run-summary",
                             description="Counts per stage, languages, duplicates, quarantine")
    create_table_artifact(article_rows(result.new), key="newsflow-new-articles",
                          description="The run's new articles (first 50)")
    emit_run_completed(run_id, summary, spike_share=settings.quarantine_spike, source=source)
    get_run_logger().info("run %s: %s", run_id, summary)
    return summary
