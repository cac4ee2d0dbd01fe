"""The DuckDB warehouse: connect, and apply numbered migrations and views idempotently."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"
VIEWS = HERE / "views"  # read models, one a file, recreated on every migrate


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Return a connection to the warehouse file, creating its folder when writing."""
    if not read_only and str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    return con


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, unless DuckDB ended it already: a COMMIT that fails
    (a full disk) ends it, and an error here would hide the one that matters."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded, then the views; return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")):
        version = int(path.name[:3])
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [version, path.stem, datetime.now(UTC)],
            )
            con.execute("COMMIT")
        except duckdb.Error:
            rollback(con)
            raise
        applied.append(version)
    for view in sorted(VIEWS.glob("*.sql")):
        con.execute(view.read_text(encoding="utf-8"))
    return applied
