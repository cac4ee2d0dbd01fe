"""The `newsflow` command: a thin CLI over the ingest flow and the warehouse."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from flows.lake_cli import compact
from flows.read_cli import export, query, search, shell, stats
from flows.runreport import Finished, exit_now, failure_message, interrupt_once, print_report, say_interrupted
from flows.sources_cli import sources_app
from flows.terminal import (
    DbOption,
    checked_url,
    console,
    db_path,
    errors,
    existing_db,
    fail,
    literal_table,
    load_settings,
)

# Each command imports what it needs: `--help`, `query` and `stats` start without Prefect,
# trafilatura or pydantic (about a second of imports).

# Values and help are printed literally: Rich markup would eat "[brackets]" in data and defaults.
app = typer.Typer(
    no_args_is_help=True,
    help=__doc__,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"newsflow {version('newsflow')}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Event-driven news ingestion: seeds, feeds and pages into a DuckDB warehouse, under Prefect."""


def _server_line() -> str:
    """Return which Prefect server a run reports to: the configured one, or a temporary one."""
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    if api:
        return f"newsflow: reporting to the Prefect server at {api}"
    return (
        "newsflow: no PREFECT_API_URL: this run starts a temporary Prefect server (10-30 s); "
        "for daily use keep `prefect server start` running and set PREFECT_API_URL"
    )


@app.command()
def run(
    db: Path | None = DbOption,
    seeds: Path | None = typer.Option(None, help="Seed folder [env NEWSFLOW_SEEDS; default seeds/]."),
    feed: list[str] = typer.Option([], "--feed", metavar="URL", help="Feed URL to ingest; repeatable."),
    url: list[str] = typer.Option([], "--url", metavar="URL", help="Article page URL to ingest; repeatable."),
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
    force: bool = typer.Option(
        False, "--force", help="Fetch every feed and sitemap now, ignoring back-off and validators."
    ),
) -> None:
    """Run the ingest flow once on the configured sources and print its summary; --feed and
    --url are read this once, not subscribed to (see `newsflow sources add`)."""
    from tasks.settings import prefect_defaults

    prefect_defaults()  # before anything imports Prefect: the workers' fork server does
    _start_workers()  # then at once: checking the URLs below imports Prefect (seconds)
    for given in [*feed, *url]:
        checked_url(given)
    path = db_path(db)
    errors.print(_server_line(), markup=False, soft_wrap=True)
    from flows.ingest import ingest  # imported late: Prefect reads its settings at import
    from flows.progress import progress_display

    params: dict[str, Any] = {
        "db": str(db) if db else None,
        "seeds": str(seeds) if seeds else None,
        "config": str(config) if config else None,
        "feeds": feed,
        "urls": url,
        "force": force,
    }
    started = time.monotonic()
    try:
        with interrupt_once(), progress_display(console, errors) as display:
            state = ingest(**params, return_state=True)
            summary = state.result()
            if display is not None:
                display.loaded(summary.new)
    except KeyboardInterrupt:
        say_interrupted(path)
        exit_now(130)
    except Exception as exc:  # the flow's logs above hold the traceback; say it in one line
        raise fail(f"run failed: {failure_message(exc, path.parent)}") from exc
    finished = Finished(path, str(state.state_details.flow_run_id), time.monotonic() - started, _ui_url())
    print_report(console, summary, finished)


def _start_workers() -> None:
    """Start the run's worker processes before Prefect: they load their models on one core
    while this process imports and starts the flow on the other."""
    from pydantic import ValidationError

    from tasks.pool import start_early
    from tasks.settings import Settings

    try:
        workers = Settings().local_workers()
    except ValidationError:
        return  # the flow reports the settings' error, as a failed run
    start_early(workers, ("tasks.preload",))  # tasks.prepare.PRELOAD, which imports Prefect


@app.command()
def reextract(
    db: Path | None = DbOption,
    since: datetime | None = typer.Option(
        None,
        metavar="DATE",
        help="Only documents fetched on or after this date (YYYY-MM-DD[ HH:MM:SS], UTC).",
    ),
    source: str | None = typer.Option(None, metavar="URI-OR-NAME", help="Only this source: its URI or name."),
) -> None:
    """Clean the stored raw documents again with the current cleaner, without refetching; an
    article whose text changed keeps its earlier text in article_versions."""
    from datetime import UTC

    from tasks.settings import prefect_defaults

    path = existing_db(db)
    prefect_defaults()
    from flows.reextract import reextract as reextract_flow  # late: Prefect reads its settings at import

    when = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    try:
        with interrupt_once():
            summary = reextract_flow(db=str(db) if db else None, since=when, source=source)
    except KeyboardInterrupt:
        errors.print("newsflow: re-extraction interrupted; nothing was changed", markup=False)
        exit_now(130)
    except Exception as exc:
        raise fail(f"reextract failed: {failure_message(exc, path.parent)}") from exc
    console.print(
        literal_table(
            ["re-extracted", "changed", "unchanged", "quarantined now"],
            [(summary.reextracted, summary.changed, summary.unchanged, summary.quarantined)],
        )
    )


# The commands that read the warehouse (flows/read_cli.py), listed in --help after these.
for command in (query, export, search, stats):
    app.command()(command)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(shell)


def _ui_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().ui_url


def _require_server() -> None:
    """Exit with advice unless a Prefect server is configured: events and deployments need one."""
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise fail(
            "no Prefect server configured. Start one with `prefect server start` "
            "and run `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`.",
            2,
        )


@app.command()
def serve() -> None:
    """Serve the daily-ingest (cron) and ingest-on-event (trigger) deployments from this process."""
    from tasks.settings import prefect_defaults

    prefect_defaults()
    # Served runs start within ~2 s of being due instead of up to 10 s (Prefect's default poll).
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    _require_server()
    from flows.serve import serve_deployments  # imported late: Prefect reads its settings at import

    serve_deployments(load_settings())


@app.command()
def watch(
    folder: Path | None = typer.Argument(None, help="Folder to watch [default: the seeds folder]."),
    quiet_ms: int = typer.Option(1000, "--quiet-ms", help="A file must be unchanged this long, ms."),
    window: float | None = typer.Option(
        None,
        "--window",
        help="Files settled within this many seconds go as one event [env NEWSFLOW_WATCH_WINDOW; default 3].",
    ),
) -> None:
    """Emit newsflow.source.updated for the article files added to or changed in a folder, those
    settled within a few seconds as one event; events wait on disk while the server is down."""
    from tasks.settings import prefect_defaults

    prefect_defaults()
    _require_server()
    settings = load_settings()
    target = folder or settings.seeds
    if target is None or not target.is_dir():
        raise fail(f"no folder at {target}", 2)
    from flows.events import Outbox, sources_updated
    from flows.watch import watch_folder

    logging.getLogger("newsflow.watch").setLevel(logging.INFO)  # Prefect's handlers print it
    outbox = Outbox(settings.db.parent / ".newsflow.outbox")
    outbox.flush()  # what an earlier watcher could not send
    seconds = settings.watch_window if window is None else window
    try:
        watch_folder(
            target,
            lambda files: outbox.put(sources_updated(files)),
            quiet_ms=quiet_ms,
            window_ms=int(seconds * 1000),
            idle=outbox.flush,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if outbox.flush():
            errors.print(f"newsflow: events not sent yet are kept in {outbox.folder}", markup=False)


app.add_typer(sources_app, name="sources")
app.command()(compact)


def main() -> None:
    """Entry point of the console script."""
    app()
