"""The `newsflow` command: a thin CLI over the ingest flow and the warehouse."""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table

import warehouse
from tasks.report import RunSummary
from tasks.settings import Settings, prefect_defaults

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()

DbOption = typer.Option(
    None, "--db", help="Warehouse file [env NEWSFLOW_DB; default warehouse/newsflow.duckdb]."
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _db(db: Path | None) -> Path:
    return db or Settings().db


@app.command()
def run(
    db: Path | None = DbOption,
    seeds: Path | None = typer.Option(None, help="Seed folder [env NEWSFLOW_SEEDS; default seeds/]."),
    feed: list[str] = typer.Option([], "--feed", help="Feed URL to ingest; repeatable."),
    url: list[str] = typer.Option([], "--url", help="Article page URL to ingest; repeatable."),
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
) -> None:
    """Run the ingest flow once on the configured sources and print its summary."""
    prefect_defaults()
    from flows.ingest import ingest  # imported late: Prefect reads its settings at import

    params: dict[str, Any] = {
        "db": str(db) if db else None,
        "seeds": str(seeds) if seeds else None,
        "config": str(config) if config else None,
        "feeds": feed,
        "urls": url,
    }
    try:
        if console.is_terminal:
            with console.status("ingesting…"):
                summary = ingest(**params)
        else:
            summary = ingest(**params)
    except Exception as exc:  # the flow's logs above hold the traceback; say it in one line
        console.print(f"[red]run failed:[/red] {failure_message(exc)}", soft_wrap=True)
        raise typer.Exit(1) from exc
    _print_summary(summary)


def failure_message(exc: BaseException) -> str:
    """Return what a failed run's exception means for the user, in one line."""
    text = f"{type(exc).__name__}: {exc}"
    full = (
        (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT))
        or "No space left on device" in text
        or "File too large" in text
    )
    if full:
        return (
            "the disk is full. The warehouse keeps its earlier rows; free some space and run "
            f"again: the next run completes this one's work once. ({text})"
        )
    return text


def _print_summary(summary: RunSummary) -> None:
    counts = summary.to_dict()
    table = Table(title="newsflow run", show_header=True)
    totals = ("documents", "skipped_known", "new", "unchanged", "duplicates", "quarantined")
    for key in totals:
        table.add_column(key, justify="right")
    table.add_row(*(str(counts[k]) for k in totals))
    console.print(table)
    for key in ("languages", "duplicate_kinds", "quarantine_reasons"):
        if counts[key]:
            console.print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in counts[key].items()))


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL to run against the warehouse (read-only)."),
    db: Path | None = DbOption,
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Run a read-only SQL query on the warehouse and print the result."""
    path = _db(db)
    if not path.exists():
        raise typer.BadParameter(f"no warehouse at {path}: run `newsflow run` first", param_hint="--db")
    try:
        with warehouse.connect(path, read_only=True) as con:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as exc:
        console.print(f"[red]query failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    _print_rows(columns, rows, format)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: Format) -> None:
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt is Format.json:
        print(
            json.dumps(
                [dict(zip(columns, r, strict=True)) for r in rows], default=str, ensure_ascii=False, indent=1
            )
        )
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


STATS = {
    "articles by source": "SELECT s.kind, s.uri, count(a.article_id) AS articles FROM sources s "
    "LEFT JOIN articles a USING (source_id) GROUP BY ALL ORDER BY articles DESC",
    "articles by language": "SELECT language, articles, avg_prob FROM articles_by_language",
    "duplicates by kind": "SELECT kind, count(*) AS n FROM duplicates GROUP BY kind ORDER BY n DESC",
    "quarantine by reason": "SELECT stage, reason, items, times_seen FROM quarantine_summary",
    "feed health": "SELECT feed_uri, last_success_at, consecutive_failures, last_error, "
    "next_attempt_at FROM feed_health ORDER BY consecutive_failures DESC, feed_uri",
    "last runs": "SELECT run_id, status, started_at, seconds, documents, new_articles, unchanged, "
    "duplicates, quarantined FROM run_history LIMIT 5",
}


@app.command()
def stats(db: Path | None = DbOption) -> None:
    """Print counts by source, language, duplicate kind, quarantine reason, and the last runs."""
    path = _db(db)
    if not path.exists():
        raise typer.BadParameter(f"no warehouse at {path}: run `newsflow run` first", param_hint="--db")
    with warehouse.connect(path, read_only=True) as con:
        for title, sql in STATS.items():
            cursor = con.execute(sql)
            console.rule(title)
            _print_rows([d[0] for d in cursor.description or []], cursor.fetchall(), Format.table)


def _require_server() -> None:
    """Exit with advice unless a Prefect server is configured: events and deployments need one."""
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        console.print(
            "[red]no Prefect server configured.[/red] Start one with `prefect server start` "
            "and run `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`."
        )
        raise typer.Exit(2)


@app.command()
def serve() -> None:
    """Serve the daily-ingest (cron) and ingest-on-event (trigger) deployments from this process."""
    prefect_defaults()
    # Served runs start within ~2 s of being due instead of up to 10 s (Prefect's default poll).
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    _require_server()
    from flows.serve import serve_deployments  # imported late: Prefect reads its settings at import

    serve_deployments(Settings())


@app.command()
def watch(
    folder: Path | None = typer.Argument(None, help="Folder to watch [default: the seeds folder]."),
    quiet_ms: int = typer.Option(1000, "--quiet-ms", help="A file must be unchanged this long, ms."),
) -> None:
    """Emit newsflow.source.updated for each article file added to or changed in a folder."""
    prefect_defaults()
    _require_server()
    target = folder or Settings().seeds
    if target is None or not target.is_dir():
        raise typer.BadParameter(f"no folder at {target}", param_hint="FOLDER")
    from prefect.events.worker import EventsWorker

    from flows.events import emit_source_updated
    from flows.watch import watch_folder

    logging.getLogger("newsflow.watch").setLevel(logging.INFO)  # Prefect's handlers print it
    try:
        watch_folder(target, emit_source_updated, quiet_ms=quiet_ms)
    except KeyboardInterrupt:
        pass
    finally:
        EventsWorker.drain_all()


def main() -> None:
    """Entry point of the console script."""
    app()
