"""The `newsflow` command: a thin CLI over the ingest flow and the warehouse."""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

import warehouse
from tasks.records import Source
from tasks.report import STATE_ORDER, STATE_WORDS

if TYPE_CHECKING:
    from tasks.fetch.discover import Found
    from tasks.report import RunSummary
    from tasks.settings import Settings

# Each command imports what it needs: `--help`, `query` and `stats` start without Prefect,
# trafilatura or pydantic (about a second of imports).

# Values and help are printed literally: Rich markup would eat "[brackets]" in data and defaults.
app = typer.Typer(
    no_args_is_help=True,
    help=__doc__,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

DbOption = typer.Option(
    None, "--db", help="Warehouse file [env NEWSFLOW_DB; default warehouse/newsflow.duckdb]."
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"  # one JSON object a line (NDJSON)


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


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr, literally, and return the exit to raise."""
    errors.print(f"newsflow: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def _settings() -> Settings:
    from tasks.settings import Settings

    return Settings()


def _db(db: Path | None) -> Path:
    return db or _settings().db


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

    for given in [*feed, *url]:
        _url(given)
    prefect_defaults()
    errors.print(_server_line(), markup=False, soft_wrap=True)
    from flows.ingest import ingest  # imported late: Prefect reads its settings at import

    params: dict[str, Any] = {
        "db": str(db) if db else None,
        "seeds": str(seeds) if seeds else None,
        "config": str(config) if config else None,
        "feeds": feed,
        "urls": url,
        "force": force,
    }
    try:
        if console.is_terminal:
            with console.status("ingesting…"):
                summary = ingest(**params)
        else:
            summary = ingest(**params)
    except Exception as exc:  # the flow's logs above hold the traceback; say it in one line
        raise fail(f"run failed: {failure_message(exc)}") from exc
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
    totals = ("discovered", "new", "duplicates", "unchanged", "quarantined", "deferred")
    for key in totals:
        table.add_column(key, justify="right")
    table.add_row(*(str(counts[k]) for k in totals))
    console.print(table)
    for key in ("languages", "duplicate_kinds", "quarantine_reasons", "deferred_reasons"):
        if counts[key]:
            line = f"{key}: " + ", ".join(f"{k}={v}" for k, v in counts[key].items())
            console.print(line, markup=False, soft_wrap=True)
    for uri, state in sorted(summary.feeds.items(), key=lambda kv: (STATE_ORDER.index(kv[1]), kv[0])):
        name = summary.feed_names.get(uri)
        console.print(
            f"{STATE_WORDS[state]}: {name + ' ' if name else ''}{uri}", markup=False, soft_wrap=True
        )


@app.command()
def query(
    sql: str = typer.Argument(
        "-", help="SQL to run against the warehouse (read-only); - or nothing reads it from stdin."
    ),
    file: Path | None = typer.Option(None, "--file", "-f", help="Read the SQL from this file."),
    db: Path | None = DbOption,
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Run a read-only SQL query on the warehouse and print the result."""
    import duckdb

    import warehouse

    path = _db(db)
    if not path.exists():
        raise fail(f"no warehouse at {path}: run `newsflow run` first", 2)
    if file is not None:
        sql = file.read_text(encoding="utf-8")
    elif sql == "-":
        sql = sys.stdin.read()
    try:
        with warehouse.connect(path, read_only=True) as con:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise fail(f"query failed: {exc}") from exc
    _print_rows(columns, rows, format)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: Format) -> None:
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt is Format.json:
        records = [dict(zip(columns, r, strict=True)) for r in rows]
        print(json.dumps(records, default=str, ensure_ascii=False, indent=1))
    elif fmt is Format.jsonl:
        for r in rows:
            print(json.dumps(dict(zip(columns, r, strict=True)), default=str, ensure_ascii=False))
    else:
        console.print(_table(columns, rows))
        console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}", markup=False)


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> Table:
    """Return rows as a table of literal text; long values are cut with an ellipsis, as the
    DuckDB CLI does, instead of wrapping a column into one word a line."""
    table = Table(
        *(Column(header=Text(c), overflow="ellipsis", no_wrap=True, max_width=60) for c in columns),
        highlight=False,
    )
    for row in rows:
        table.add_row(*(Text("NULL" if v is None else str(v)) for v in row))
    return table


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
    import warehouse

    path = _db(db)
    if not path.exists():
        raise fail(f"no warehouse at {path}: run `newsflow run` first", 2)
    with warehouse.connect(path, read_only=True) as con:
        for title, sql in STATS.items():
            console.rule(Text(title))
            try:
                cursor = con.execute(sql)
            except duckdb.CatalogException:  # a warehouse no run of this version has migrated
                console.print("(not in this warehouse yet: run `newsflow run` once)", markup=False)
                continue
            console.print(_table([d[0] for d in cursor.description or []], cursor.fetchall()))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def shell(ctx: typer.Context, db: Path | None = DbOption) -> None:
    """Open the warehouse read-only in the DuckDB CLI (the pinned one); extra arguments go to it."""
    import duckdb

    import warehouse.extensions

    path = _db(db)
    if not path.exists():
        raise fail(f"no warehouse at {path}: run `newsflow run` first", 2)
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if cli is None:
        raise fail("no duckdb CLI found: install the project's lock (`make run` does)", 2)
    with duckdb.connect() as con:
        extensions = warehouse.extensions.install(con)
    setup = f"SET extension_directory = '{extensions}'; SET autoinstall_known_extensions = false;"
    os.execv(cli, [cli, "-readonly", "-cmd", setup, str(path), *ctx.args])


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

    serve_deployments(_settings())


@app.command()
def watch(
    folder: Path | None = typer.Argument(None, help="Folder to watch [default: the seeds folder]."),
    quiet_ms: int = typer.Option(1000, "--quiet-ms", help="A file must be unchanged this long, ms."),
) -> None:
    """Emit newsflow.source.updated for each article file added to or changed in a folder."""
    from tasks.settings import prefect_defaults

    prefect_defaults()
    _require_server()
    target = folder or _settings().seeds
    if target is None or not target.is_dir():
        raise fail(f"no folder at {target}", 2)
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


sources_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Subscribe to feeds, sitemaps, pages and whole sites; list, check and remove them. "
    "Every run reads the subscriptions and seeds/sources.toml; a URL in both is read as the file says.",
)
app.add_typer(sources_app, name="sources")


class AddKind(StrEnum):
    auto = "auto"  # a site for a home page URL, a sitemap by its name, else a feed
    feed = "feed"
    sitemap = "sitemap"
    site = "site"
    page = "page"


def _url(given: str) -> str:
    from tasks.subscriptions import NotAUrl, check_url

    try:
        return check_url(given)
    except NotAUrl as exc:
        raise fail(str(exc), 2) from exc


@sources_app.command("add")
def sources_add(
    url: str = typer.Argument(..., help="Feed, sitemap, page, or site home page URL."),
    kind: AddKind = typer.Option(AddKind.auto, "--kind", help="What the URL is."),
    name: str | None = typer.Option(None, "--name", help="A name to show for it."),
    every: bool = typer.Option(False, "--all", help="For a site: subscribe to every feed and sitemap found."),
    db: Path | None = DbOption,
) -> None:
    """Subscribe to a feed, sitemap or page; for a site, find its feeds and sitemaps and subscribe
    to the best ones."""
    from datetime import UTC, datetime

    from tasks.fetch.discover import best
    from tasks.subscriptions import guess_kind, subscribe, writing
    from warehouse.writer import Warehouse

    chosen_kind = guess_kind(_url(url)) if kind is AddKind.auto else kind.value
    site = None
    if chosen_kind == "site":
        site = url
        found = _discover(url)
        picked = [f for f in found if f.ok] if every else best(found)
        if not picked:
            raise fail(f"no feed or sitemap found on {url}", 1)
        sources = [Source(f.candidate.kind, f.candidate.url, name or f.candidate.title) for f in picked]
    else:
        sources = [Source(chosen_kind, url, name)]  # type: ignore[arg-type]  # not 'site' here
    with writing(Warehouse(_db(db))) as con:
        added = subscribe(con, sources, datetime.now(UTC), site=site)
    for s in sources:
        state = "subscribed" if s in added else "already subscribed, updated"
        console.print(f"{state}: {s.kind} {s.uri}", markup=False, soft_wrap=True)


def _discover(site: str) -> list[Found]:
    """Return what a site's home page, robots.txt and common paths hold, printed as a table."""
    from tasks.fetch.discover import discover
    from tasks.fetch.polite import fetch_session

    with fetch_session(_settings().fetch_policy()) as fetcher:
        found = discover(fetcher, site)
    rows = [
        (f.candidate.kind, f.candidate.url, f.candidate.found_in, f.entries, _holds(f), f.error)
        for f in found
    ]
    console.print(_table(["kind", "url", "found in", "entries", "holds", "error"], rows))
    return found


def _holds(found: Found) -> str:
    if not found.ok:
        return ""
    return " ".join(w for w, on in (("news", found.news), ("index", found.index)) if on)


@sources_app.command("list")
def sources_list(
    db: Path | None = DbOption,
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """List the subscriptions and sources.toml's sources with their state and counts."""
    from tasks.sources import SourcesFileError, read_sources_file
    from tasks.subscriptions import STATUS_COLUMNS, status_rows

    settings = _settings().with_overrides(config=config)
    file = settings.sources_file()
    try:
        in_file = read_sources_file(file) if file else []
    except SourcesFileError as exc:
        raise fail(str(exc), 2) from exc
    path = _db(db)
    if not path.exists():
        rows = status_rows(None, in_file)
    else:
        with warehouse.connect(path, read_only=True) as con:
            try:
                rows = status_rows(con, in_file)
            except duckdb.CatalogException as exc:
                raise fail(f"{path} predates subscriptions: run `newsflow run` once ({exc})", 2) from exc
    _print_rows(list(STATUS_COLUMNS), rows, format)


@sources_app.command("remove")
def sources_remove(
    url: str = typer.Argument(..., help="The subscribed URL."), db: Path | None = DbOption
) -> None:
    """Unsubscribe from a URL; its articles stay, and sources.toml's sources are removed there."""
    from tasks.sources import read_sources_file
    from tasks.subscriptions import unsubscribe, writing
    from warehouse.writer import Warehouse

    file = _settings().sources_file()
    in_file = file is not None and any(s.uri == url for s in read_sources_file(file))
    with writing(Warehouse(_db(db))) as con:
        removed = unsubscribe(con, url)
    if not removed:
        where = f": it is listed in {file}; remove it there" if in_file else ""
        raise fail(f"not subscribed to {url}{where}", 1)
    console.print(f"removed: {url}", markup=False, soft_wrap=True)
    if in_file:
        errors.print(f"newsflow: {url} is still read: {file} lists it", markup=False, soft_wrap=True)


@sources_app.command("check")
def sources_check(
    url: str | None = typer.Argument(
        None, help="One URL [default: every subscription and sources.toml source]."
    ),
    db: Path | None = DbOption,
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
    show: int = typer.Option(5, "--show", help="Entries printed per source."),
) -> None:
    """Fetch sources now, ignoring back-off and validators, and print what they hold; nothing is
    stored. Exits 1 when one failed."""
    from datetime import UTC, datetime

    from tasks.fetch.polite import fetch_session
    from tasks.sources import configured_sources
    from tasks.subscriptions import check_source, guess_kind, stored_subscriptions
    from warehouse.writer import Warehouse

    settings = _settings().with_overrides(config=config, force=True)
    configured = configured_sources(settings.sources_file(), stored_subscriptions(Warehouse(_db(db))))
    if url is not None:
        kind = guess_kind(_url(url))
        if kind == "site" and all(s.uri != url for s in configured):
            found = _discover(url)
            raise typer.Exit(0 if any(f.ok for f in found) else 1)
        default = Source("feed" if kind == "site" else kind, url)
        configured = [next((s for s in configured if s.uri == url), default)]
    if not configured:
        raise fail("no sources: add one with `newsflow sources add URL`", 2)
    failed = 0
    with fetch_session(settings.fetch_policy()) as fetcher:
        for source in configured:
            checked = check_source(fetcher, source, datetime.now(UTC))
            failed += checked.failed
            state = "FAILED" if checked.failed else f"{len(checked.entries)} entries"
            console.print(f"{source.kind} {source.uri}: {state}", markup=False, soft_wrap=True)
            for q in checked.faults:
                console.print(f"  {q.stage}:{q.reason} {q.uri}: {q.detail}", markup=False, soft_wrap=True)
            for e in checked.entries[:show]:
                dated = f"{e.published:%Y-%m-%d %H:%M} " if e.published else ""
                console.print(f"  {dated}{e.link}  {e.title or ''}", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the console script."""
    app()
