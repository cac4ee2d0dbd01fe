"""How the CLI prints and fails: literal values, tables, CSV, JSON; errors on stderr with a code."""

from __future__ import annotations

import csv
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from tasks.settings import Settings

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

DbOption = typer.Option(
    None,
    "--db",
    help="Warehouse file [env NEWSFLOW_DB; newsflow.toml db; default warehouse/newsflow.sqlite].",
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"  # one JSON object a line (NDJSON)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr, literally, and return the exit to raise."""
    errors.print(f"newsflow: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    """Return the settings from the environment, importing pydantic only when a command needs it."""
    from tasks.settings import Settings

    return Settings()


def db_path(db: Path | None) -> Path:
    """Return the warehouse file a command opens: --db, else the setting, read without pydantic."""
    from tasks.configfile import ConfigFileError, configured_db

    try:
        return configured_db(db)
    except ConfigFileError as exc:
        raise fail(str(exc), 2) from exc


def catalog_setting() -> str | None:
    """Return the DuckLake catalog other than the SQLite file (NEWSFLOW_CATALOG, else the config
    files' `catalog`), read without pydantic; None for the SQLite file."""
    from tasks.configfile import ConfigFileError, file_settings

    try:
        return os.environ.get("NEWSFLOW_CATALOG") or file_settings().get("catalog") or None
    except ConfigFileError as exc:
        raise fail(str(exc), 2) from exc


def existing_db(db: Path | None) -> Path:
    """Return the warehouse file a reading command opens, or exit 2 when there is none yet."""
    path = db_path(db)
    if catalog_setting() is None and not path.exists():
        raise fail(f"no warehouse at {path}: run `newsflow run` first", 2)
    return path


def open_warehouse(path: Path, as_of: int | None = None) -> duckdb.DuckDBPyConnection:
    """Return a read-only connection on which the warehouse's tables and views have their plain
    names (as of a lake snapshot, if given): every command that reads the warehouse opens it here."""
    import warehouse

    return warehouse.connect(path, read_only=True, as_of=as_of, catalog=catalog_setting())


def checked_url(given: str) -> str:
    """Return the URL given on the command line, or exit 2 saying why it is not one."""
    from tasks.subscriptions import NotAUrl, check_url

    try:
        return check_url(given)
    except NotAUrl as exc:
        raise fail(str(exc), 2) from exc


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: Format) -> None:
    """Print query rows as a table with a row count, CSV, JSON or JSON lines, values literally."""
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
        console.print(literal_table(columns, rows))
        console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}", markup=False)


def literal_table(columns: list[str], rows: list[tuple[Any, ...]]) -> Table:
    """Return rows as a table of literal text; long values are cut with an ellipsis, as the
    DuckDB CLI does, instead of wrapping a column into one word a line."""
    table = Table(
        *(Column(header=Text(c), overflow="ellipsis", no_wrap=True, max_width=60) for c in columns),
        highlight=False,
    )
    for row in rows:
        table.add_row(*(Text("NULL" if v is None else str(v)) for v in row))
    return table
