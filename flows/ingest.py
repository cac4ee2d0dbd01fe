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
from prefect.utilities.annotations import quote

from tasks.clean import clean_batch
from tasks.dedup import sign_batch
from tasks.fetch import Fetched, fetch_web, read_seeds
from tasks.language import detect_batch
from tasks.load import finish_run, load, start_run
from tasks.normalize import normalize_batch
from tasks.records import Article, Quarantined
from tasks.report import article_rows, summarize, summary_markdown
from tasks.settings import Settings
from tasks.sources import plan_sources


T = TypeVar("T")


def _q(value: T) -> T:
    """Return value wrapped so Prefect passes it as is: walking a large batch costs seconds."""
    return cast(T, quote(value))


def settings_for(db: str | None, seeds: str | None, config: str | None) -> Settings:
    """Return the settings from the environment, overridden by the flow's parameters."""
    overrides = {"db": db, "seeds": seeds, "config": config}
    return Settings().model_copy(update={k: Path(v) for k, v in overrides.items() if v})


@task(name="open-run", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 5, 15])
def open_run(db: Path, run_id: str, now: datetime) -> frozenset[str]:
    """Apply the schema, record the run as started, and return the stored document keys."""
    return start_run(db, run_id, str(runtime.flow_run.id or "") or None, now)


@task(name="close-run", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 5, 15])
def close_run(db: Path, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Record the run's end with its summary, and publish it to the Prefect UI."""
    finish_run(db, run_id, status, datetime.now(UTC), summary)


def _mark_failed(flow: Any, flow_run: Any, state: Any) -> None:
    """Record a failed or crashed run in the warehouse, with the reason Prefect gives."""
    params = flow_run.parameters or {}
    settings = settings_for(params.get("db"), params.get("seeds"), params.get("config"))
    try:
        finish_run(settings.db, str(flow_run.id), "failed", datetime.now(UTC),
                   {"error": state.message or state.name})
    except duckdb.Error as exc:
        # The warehouse itself may be what failed; the Prefect UI still shows the state.
        logging.getLogger("newsflow").warning("could not record failed run: %s", exc)


def _prepare(batch: list, settings: Settings, now: datetime) -> tuple[list[Article], list[Quarantined]]:
    cleaned, dropped = clean_batch(_q(batch))
    guesses = detect_batch(
        _q(cleaned), settings.language_threshold, settings.language_sample_chars
    )
    articles, too_short = normalize_batch(_q(cleaned), _q(guesses), now, settings.min_words)
    return sign_batch(_q(articles)), dropped + too_short


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
) -> dict[str, Any]:
    """Ingest every configured source once; return the run's summary counts."""
    settings = settings_for(db, seeds, config)
    now = datetime.now(UTC)
    run_id = str(runtime.flow_run.id or uuid.uuid4())
    plan = plan_sources(settings.seeds, settings.sources_file(), feeds or [], urls or [])
    known = open_run(settings.db, run_id, now)

    fetched: list[Fetched] = []
    if plan.seeds:
        fetched.append(read_seeds(Path(plan.seeds.uri), plan.seeds, now, settings.max_bytes))
    if plan.feeds or plan.pages:
        fetched.append(fetch_web(
            plan.feeds, plan.pages, _q(known), now, settings.user_agent, settings.http_timeout,
            settings.max_bytes, settings.max_entries_per_feed, settings.fetch_workers,
        ))
    documents = [d for f in fetched for d in f.documents]
    quarantined = [q for f in fetched for q in f.quarantined]

    articles: list[Article] = []
    for start in range(0, len(documents), settings.batch_size):
        ready, dropped = _prepare(documents[start : start + settings.batch_size], settings, now)
        articles += ready
        quarantined += dropped

    result = load(settings.db, run_id, _q(articles), _q(quarantined), plan.all(), now,
                  settings.near_threshold)
    summary = summarize(
        documents=len(documents), skipped_known=sum(f.skipped_known for f in fetched),
        new=result.new, duplicates=result.duplicates, unchanged=result.unchanged,
        quarantined=quarantined,
    )
    close_run(settings.db, run_id, "completed", summary)
    create_markdown_artifact(summary_markdown(summary, run_id), key="newsflow-run-summary",
                             description="Counts per stage, languages, duplicates, quarantine")
    create_table_artifact(article_rows(result.new), key="newsflow-new-articles",
                          description="The run's new articles (first 50)")
    get_run_logger().info("run %s: %s", run_id, summary)
    return summary
