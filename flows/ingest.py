"""The ingest flow: fetch, clean, detect language, normalize, deduplicate and load one run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.events import emit_run_completed, emit_run_failed
from tasks.dedup import NearRule
from tasks.fetch import list_web
from tasks.fetch.files import check_seeds, list_seeds
from tasks.fetch.listing import Listing
from tasks.fetch.polite import fetch_session
from tasks.load import SetAside, load
from tasks.prepare import task_runner, worker_pool
from tasks.records import Run
from tasks.report import RunReport, RunSummary, article_rows, run_name, summary_markdown
from tasks.run import close_run, open_run, record_failure
from tasks.settings import Settings
from tasks.sources import choose_sources, configured_sources
from tasks.staging import staging_area
from tasks.stream import Engine, as_is, stream_to_staging
from tasks.subscriptions import stored_subscriptions
from warehouse.writer import Warehouse


def _mark_failed(flow: Any, flow_run: Any, state: Any) -> None:
    """Record a failed or crashed run in the warehouse and emit its event."""
    reason = state.message or state.name
    emit_run_failed(str(flow_run.id), reason)
    db = (flow_run.parameters or {}).get("db")
    settings = Settings().with_overrides(db=db)
    record_failure(Warehouse(settings.db, settings.catalog), str(flow_run.id), reason)


def _run_name() -> str:
    """Name the flow run for what it reads and when it was due, in the schedule's timezone."""
    params = runtime.flow_run.parameters
    named = [*(params.get("sources") or []), *([params["source"]] if params.get("source") else [])]
    given = len(params.get("feeds") or []) + len(params.get("urls") or [])
    due = runtime.flow_run.scheduled_start_time.astimezone(ZoneInfo(Settings().schedule_timezone))
    return run_name(named, runtime.deployment.name, given, due)


@flow(
    name="newsflow-ingest",
    flow_run_name=_run_name,
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
    force: bool = False,
    sources: list[str] | None = None,
) -> RunSummary:
    """Ingest every configured source (sources.toml and subscriptions) once, or only `source` and
    `sources` (files, file:// URIs or URLs); `force` fetches feeds and sitemaps now; return the
    run's summary."""
    settings = Settings().with_overrides(db=db, seeds=seeds, config=config, force=force or None)
    run = Run(str(runtime.flow_run.id or uuid.uuid4()), datetime.now(UTC))
    store = Warehouse(settings.db, settings.catalog)
    configured = configured_sources(settings.sources_file(), stored_subscriptions(store))
    named = [*(sources or []), *([source] if source else [])]
    plan, only = choose_sources(settings.seeds, configured, feeds or [], urls or [], named)
    opened = open_run(store, run, plan.all())

    with (
        staging_area(settings.db, run.run_id) as folder,
        fetch_session(settings.fetch_policy()) as fetcher,
        worker_pool(settings.local_workers()) as pool,
        task_runner(settings.dask_address) as runner,
    ):
        files = list_seeds(plan.seeds, only) if plan.seeds else []
        changed = check_seeds(as_is(files), as_is(opened), folder, settings.max_bytes)
        listing = list_web(as_is(fetcher), plan, as_is(opened), run.now) if plan.web() else Listing()
        listing = changed.counted(listing)
        engine = Engine(fetcher, pool, runner, settings.batch_size, tuple(files), settings.batches_at_once())
        prepare = settings.prepare_config(run.now, run.run_id)
        streamed = stream_to_staging([*changed.jobs, *listing.jobs], engine, prepare, folder)
        aside = SetAside.of(plan.all(), opened, listing, streamed)
        near = NearRule(settings.near_threshold, settings.near_containment)
        result = load(store, run, folder, as_is(aside), near, settings.revision_min_change)

    summary = RunSummary.of(files=len(changed.jobs), listing=listing, streamed=streamed, result=result)
    if summary.unaccounted:
        get_run_logger().error("%d items reached no recorded outcome: %s", summary.unaccounted, summary)
    close_run(store, run, summary, result.snapshot, settings.upkeep())
    seconds = (datetime.now(UTC) - run.now).total_seconds()
    report = RunReport(run.run_id, runtime.flow_run.name or run.run_id, plan, only, seconds, settings.db)
    create_markdown_artifact(
        summary_markdown(summary, report),
        key="newsflow-run-summary",
        description="Sources, duration, counts, feeds by state, the quarantine and duplicates queries",
    )
    create_table_artifact(
        article_rows(result.first_new),
        key="newsflow-new-articles",
        description="The run's new articles (first 50)",
    )
    emit_run_completed(run.run_id, summary, spike_share=settings.quarantine_spike, source=source)
    get_run_logger().info("run %s: %s", run.run_id, summary)
    return summary
