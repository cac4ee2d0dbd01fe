"""The commands that read the warehouse: query, export, search, stats and shell. None of them
imports Prefect or trafilatura, and none takes the writer's lock: they read while runs write."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import typer
from rich.text import Text

from flows.export import ExportFormat
from flows.terminal import (
    DbOption,
    Format,
    catalog_setting,
    console,
    existing_db,
    fail,
    literal_table,
    open_warehouse,
    print_rows,
)


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
