"""The re-extract flow: stored raw documents cleaned again with the current cleaner, no refetch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.prepare import PrepareConfig
from tasks.records import Run
from tasks.reextract import ReextractSummary, Selection, reextract_documents, reextract_markdown
from tasks.settings import Settings
from warehouse.ledger import finish_run, start_run
from warehouse.writer import Warehouse


@task(name="reextract-documents", cache_policy=NO_CACHE)
def reextract_task(
    store: Warehouse, run: Run, selection: Selection, config: PrepareConfig, min_change: float
) -> ReextractSummary:
    """Under the writer lock: record the run, re-clean the selected documents and revise the
    changed articles in one lake transaction, then close the run with its counts."""
    with store.locked(), store.connect() as con:
        start_run(con, run.run_id, str(runtime.flow_run.id or "") or None, run.now)
        try:
            summary, snapshot = reextract_documents(
                con,
                selection,
                run_id=run.run_id,
                now=run.now,
                config=config,
                min_change=min_change,
            )
        except Exception as exc:
            finish_run(
                con, run.run_id, "failed", datetime.now(UTC), {"error": f"{type(exc).__name__}: {exc}"}
            )
            raise
        finish_run(con, run.run_id, "completed", datetime.now(UTC), summary.counts(), snapshot)
    return summary


def _run_name() -> str:
    """Name the flow run for what it re-extracts: a source or all, since a date, and when."""
    params = runtime.flow_run.parameters
    since = params.get("since")
    what = params.get("source") or "all sources"
    return (
        f"reextract {what}"
        + (f" since {str(since)[:10]}" if since else "")
        + f" {datetime.now(UTC):%Y-%m-%d %H:%M}"
    )


@flow(name="newsflow-reextract", flow_run_name=_run_name, timeout_seconds=6 * 3600)
def reextract(
    db: str | None = None, since: datetime | None = None, source: str | None = None
) -> ReextractSummary:
    """Clean the stored raw documents (fetched since `since`, of `source`: a URI or a
    subscription's name) again with the current cleaner, without refetching; revise the articles
    whose text changed; return the accounting."""
    settings = Settings().with_overrides(db=db)
    run = Run(str(runtime.flow_run.id or uuid.uuid4()), datetime.now(UTC))
    store = Warehouse(settings.db, settings.catalog)
    selection = Selection(since, source)
    config = settings.prepare_config(run.now, run.run_id)
    summary = reextract_task(store, run, selection, config, settings.revision_min_change)
    seconds = (datetime.now(UTC) - run.now).total_seconds()
    create_markdown_artifact(
        reextract_markdown(summary, run.run_id, selection, seconds),
        key="newsflow-reextract-summary",
        description="Documents re-extracted, changed, unchanged and quarantined now",
    )
    logger = get_run_logger()
    if summary.unaccounted:
        logger.error("%d documents reached no recorded outcome: %s", summary.unaccounted, summary)
    logger.info(
        "re-extracted %d documents: %d changed, %d unchanged, %d quarantined now",
        summary.reextracted,
        summary.changed,
        summary.unchanged,
        summary.quarantined,
    )
    return summary
