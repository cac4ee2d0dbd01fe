"""The `newsflow` command: a thin CLI over the ingest flow and the warehouse."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import typer
from rich.text import Text

from flows.export import ExportFormat
from flows.lake_cli import compact
from flows.runreport import Finished, exit_now, failure_message, interrupt_once, print_report, say_interrupted
from flows.sources_cli import sources_app
from flows.terminal import (
    DbOption,
    Format,
    catalog_setting,
    checked_url,
    console,
    db_path,
    errors,
    existing_db,
    fail,
    literal_table,
    load_settings,
    open_warehouse,
    print_rows,
)

if TYPE_CHECKING:
    pass

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

    _start_workers()  # first: checking the URLs below imports Prefect (seconds)
    for given in [*feed, *url]:
        checked_url(given)
    path = db_path(db)
    prefect_defaults()
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


def _ui_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().ui_url


@app.command()
def query(
    sql: str = typer.Argument(
        "-", help="SQL to run against the warehouse (read-only); - or nothing reads it from stdin."
    ),
    file: Path | None = typer.Option(None, "--file", "-f", help="Read the SQL from this file."),
    db: Path | None = DbOption,
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Read the warehouse as a run left it (a run id) or at a lake snapshot (a number).",
    ),
) -> None:
    """Run a read-only SQL query on the warehouse and print the result."""
    import duckdb

    path = existing_db(db)
    if file is not None:
        sql = file.read_text(encoding="utf-8")
    elif sql == "-":
        sql = sys.stdin.read()
    snapshot = _snapshot(path, as_of) if as_of else None
    try:
        with open_warehouse(path, snapshot) as con:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise fail(f"query failed: {exc}") from exc
    print_rows(columns, rows, format)


def _snapshot(path: Path, as_of: str) -> int:
    """Return the lake snapshot of `--as-of`: a number as given, else the one that holds the
    rows of the run whose id starts with it."""
    if as_of.isdigit():
        return int(as_of)
    with open_warehouse(path) as con:
        rows = con.execute(
            "SELECT run_id, load_snapshot FROM runs "
            "WHERE starts_with(run_id, ?) AND load_snapshot IS NOT NULL",
            [as_of],
        ).fetchall()
    if len(rows) != 1:
        found = "no completed run" if not rows else f"{len(rows)} runs"
        raise fail(f"--as-of {as_of}: {found} with that id (see `newsflow query 'FROM run_history'`)", 2)
    return int(rows[0][1])


@app.command()
def export(
    output: Path = typer.Option(
        ..., "--output", "-o", help="File to write, or folder with --partition-by-day."
    ),
    format: ExportFormat = typer.Option(ExportFormat.parquet, "--format", help="Output format."),
    since: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Only articles dated (published, else fetched) on or after this day."
    ),
    lang: str | None = typer.Option(None, "--lang", help="Only articles in this language (ISO 639-1, und)."),
    source: str | None = typer.Option(
        None, "--source", help="Only articles of this source: its URI, or a subscription's name."
    ),
    by_day: bool = typer.Option(
        False,
        "--partition-by-day",
        help="Write a folder of day=YYYY-MM-DD/ subfolders (DuckDB PARTITION_BY).",
    ),
    with_raw: bool = typer.Option(
        False, "--with-raw", help="Add the documents as fetched: raw_media_type, raw_encoding, raw_body."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the output if it exists."),
    db: Path | None = DbOption,
) -> None:
    """Write the articles (every column of `articles`, plus source_kind, source_uri and day) to
    Parquet, CSV or JSON lines through DuckDB's COPY, and print how many went where."""
    from flows.export import ArticleFilter, ExportTargetExists, Target, export_articles

    target = Target(output, format, by_day=by_day, with_raw=with_raw, overwrite=overwrite)
    only = ArticleFilter(since.date() if since else None, lang, source)
    try:
        with open_warehouse(existing_db(db)) as con:
            rows = export_articles(con, target, only)
    except ExportTargetExists as exc:
        raise fail(str(exc), 2) from exc
    except duckdb.Error as exc:
        raise fail(f"export failed: {exc}") from exc
    layout = ", a folder per day" if by_day else ""
    console.print(
        f"wrote {rows} article{'s' if rows != 1 else ''} to {output} ({format}{layout})",
        markup=False,
        soft_wrap=True,
    )


@app.command()
def search(
    terms: str = typer.Argument(..., help="Words to search for (any of them), in title and text."),
    lang: str | None = typer.Option(None, "--lang", help="Only articles in this language (ISO 639-1, und)."),
    source: str | None = typer.Option(
        None, "--source", help="Only articles of this source: its URI, or a subscription's name."
    ),
    since: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Only articles dated (published, else fetched) on or after this day."
    ),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most this many articles."),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    db: Path | None = DbOption,
) -> None:
    """Search the articles, best BM25 match first, with a snippet around the first matched word
    (marked [[so]]); SQL: SELECT * FROM search('words')."""
    from warehouse.search import COLUMNS, TABLE_COLUMNS, Filter
    from warehouse.search import search as ranked

    only = Filter(since.date() if since else None, lang, source)
    try:
        with open_warehouse(existing_db(db)) as con:
            hits = ranked(con, terms, only, limit=limit, width=56 if format is Format.table else 160)
    except duckdb.CatalogException as exc:
        raise fail(f"search failed: {exc} (a warehouse no run of this version has migrated?)") from exc
    except duckdb.Error as exc:
        raise fail(f"search failed: {exc}") from exc
    columns = TABLE_COLUMNS if format is Format.table else COLUMNS
    print_rows(columns, [h.row(columns) for h in hits], format)


# Each a view in warehouse/views/: what `stats` prints, titled.
STATS = {
    "articles by source": "SELECT * FROM articles_by_source",
    "articles by language": "SELECT language, articles, avg_prob FROM articles_by_language",
    "duplicates by kind": "SELECT kind, count(*) AS n FROM duplicates GROUP BY kind ORDER BY n DESC",
    "quarantine by reason": "SELECT stage, reason, items, times_seen FROM quarantine_summary",
    "deferred to a later run": "SELECT reason, items, most_times_deferred, oldest FROM deferred_summary",
    "feeds and sitemaps": "SELECT kind, name, uri, last_state, last_success_at, consecutive_failures, "
    "next_attempt_at, last_error FROM source_status WHERE kind <> 'page' "
    "AND (subscribed OR last_state IS NOT NULL) ORDER BY consecutive_failures DESC, uri",
    "last runs": "SELECT run_id, status, started_at, seconds, discovered, new_articles, duplicates, "
    "unchanged, quarantined, deferred FROM run_history LIMIT 5",
}


@app.command()
def stats(db: Path | None = DbOption) -> None:
    """Print counts by source, language, duplicate kind, quarantine reason, the state of each feed
    and sitemap, and the last runs."""

    with open_warehouse(existing_db(db)) as con:
        for title, sql in STATS.items():
            console.rule(Text(title))
            try:
                cursor = con.execute(sql)
            except duckdb.CatalogException:  # a warehouse no run of this version has migrated
                console.print("(not in this warehouse yet: run `newsflow run` once)", markup=False)
                continue
            console.print(literal_table([d[0] for d in cursor.description or []], cursor.fetchall()))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def shell(ctx: typer.Context, db: Path | None = DbOption) -> None:
    """Open the warehouse read-only in the DuckDB CLI (the pinned one); extra arguments go to it."""
    import duckdb

    import warehouse.extensions

    path = existing_db(db)
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if cli is None:
        raise fail("no duckdb CLI found: install the project's lock (`make run` does)", 2)
    from warehouse.lake import READER_ALIAS, Lake

    with duckdb.connect() as con:
        extensions = warehouse.extensions.install(con)
    attach = Lake.at(path, catalog_setting()).attach_sql(READER_ALIAS, read_only=True)
    setup = (
        f"SET extension_directory = '{extensions}'; SET autoinstall_known_extensions = false; "
        f"SET TimeZone = 'UTC'; LOAD fts; {attach}; USE {READER_ALIAS};"
    )
    os.execv(cli, [cli, "-cmd", setup, *ctx.args])


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
