"""The warehouse: a DuckLake (catalog file, Parquet data beside it) users read while runs write,
and the writer's private index; connect, and apply numbered migrations and views idempotently."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"  # lake/ (the tables users read) and index/ (the writer's keys)
VIEWS = HERE / "views"  # read models, one a file, recreated when they change


def connect(
    path: Path | str, *, read_only: bool = False, as_of: int | None = None, catalog: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Return a connection to the warehouse at path, its tables and views under their plain names.

    read_only: a reader's snapshot of the lake (never blocks a run, sees whole runs); else the
    writer's connection, lake and private index attached (hold the writer lock while it is open).
    as_of: read the lake as of that snapshot (runs.load_snapshot). ":memory:" gives one
    in-memory database holding both schemas, for tests and benchmarks.
    catalog: a DuckLake catalog other than the SQLite file path (NEWSFLOW_CATALOG, PostgreSQL).
    """
    if str(path) == ":memory:":
        from warehouse import extensions

        con = extensions.connect()
        con.execute("SET TimeZone = 'UTC'")
        extensions.load(con, "fts")  # stem(), for the search macros
        return con
    from warehouse.lake import Lake

    return Lake.at(Path(path), catalog).connect(read_only=read_only, as_of=as_of)


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, unless DuckDB ended it already: a COMMIT that fails
    (a full disk) ends it, and an error here would hide the one that matters."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def index_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Return a second connection of the writer's, on its private index (its own transaction);
    on an in-memory warehouse, on the same database."""
    cursor = con.cursor()
    attached = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'idx'").fetchone()
    if attached and attached[0]:
        cursor.execute("USE idx")
    return cursor


def _apply(con: duckdb.DuckDBPyConnection, folder: Path, ledger: str) -> list[int]:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {ledger} ("
        " version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute(f"SELECT version FROM {ledger}").fetchall()}
    applied = []
    for path in sorted(folder.glob("[0-9][0-9][0-9]_*.sql")):
        version = int(path.name[:3])
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(f"INSERT INTO {ledger} VALUES (?, ?, ?)", [version, path.stem, datetime.now(UTC)])
            con.execute("COMMIT")
        except duckdb.Error:
            rollback(con)
            raise
        applied.append(version)
    return applied


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the views whose text changed since they were last created: recreating all of them
    on every run would add a lake snapshot each time."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_views (name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL)")
    stored = dict(con.execute("SELECT name, sha256 FROM schema_views").fetchall())
    files = {v.stem: v.read_text(encoding="utf-8") for v in sorted(VIEWS.glob("*.sql"))}
    changed = {n: sql for n, sql in files.items() if stored.get(n) != _sha256(sql)}
    if not changed:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for name, sql in changed.items():
            con.execute(sql)
            con.execute("DELETE FROM schema_views WHERE name = ?", [name])
            con.execute("INSERT INTO schema_views VALUES (?, ?)", [name, _sha256(sql)])
        con.execute("COMMIT")
    except duckdb.Error:
        rollback(con)
        raise


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the lake's migrations not yet recorded, then the changed views, and bring the
    writer's index level with the lake; return the lake versions applied."""
    from warehouse import extensions

    extensions.load(con, "fts")  # the search migration and macros call fts's stem()
    applied = _apply(con, MIGRATIONS / "lake", "schema_migrations")
    _apply_views(con)
    prepare_index(con)
    return applied


def prepare_index(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the index's migrations and catch it up with the lake (every writer connection)."""
    from warehouse.lake import catch_up

    index = index_cursor(con)
    try:
        _apply(index, MIGRATIONS / "index", "index_migrations")
        catch_up(con, index)
    finally:
        index.close()


def merge(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, *, keys: tuple[str, ...], update: str | None
) -> None:
    """Upsert rows into table by its key columns (the lake has no keys to conflict on): set
    `update` on a row that matches (`incoming.<column>` names the new value), insert the others.
    The rows must be unique by key."""
    if rows.num_rows == 0:
        return
    con.register("incoming", rows)
    try:
        matched = f"WHEN MATCHED THEN UPDATE SET {update} " if update else ""
        con.execute(
            f"MERGE INTO {table} USING incoming USING ({', '.join(keys)}) "
            f"{matched}WHEN NOT MATCHED THEN INSERT BY NAME"
        )
    finally:
        con.unregister("incoming")
