"""DuckDB extensions from their installed wheels (duckdb-extension-*), never from the network."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import duckdb

# extension name -> the wheel's module; each wheel carries the binary for the pinned DuckDB.
WHEELS = {
    "fts": "duckdb_extension_fts",
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}


class MissingExtension(Exception):
    """A DuckDB extension newsflow needs is not installed from its wheel."""


def extension_directory() -> Path:
    """Return the DuckDB extension directory newsflow uses (NEWSFLOW_EXTENSION_DIR, else one in
    the Python environment), so that no extension is ever downloaded."""
    configured = os.environ.get("NEWSFLOW_EXTENSION_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "newsflow" / "duckdb-extensions"


def _wheel_binary(name: str) -> Path:
    module = WHEELS.get(name)
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtension(
            f"DuckDB extension {name!r} is not installed: install the project's lock "
            f"(`make run` does), which pins duckdb-extension-* {duckdb.__version__}"
        )
    found = sorted(
        Path(spec.submodule_search_locations[0]).rglob(f"v{duckdb.__version__}/*.duckdb_extension")
    )
    if not found:
        raise MissingExtension(f"{module} has no extension built for DuckDB {duckdb.__version__}")
    return found[0]


def install(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = tuple(WHEELS)) -> Path:
    """Lay the wheels' extensions out where DuckDB looks for them, point this connection there
    with autoinstall off; return the directory."""
    root = extension_directory()
    platform = con.execute("PRAGMA platform").fetchone()
    folder = root / f"v{duckdb.__version__}" / str(platform[0] if platform else "")
    for name in names:
        source, target = _wheel_binary(name), folder / f"{name}.duckdb_extension"
        if not _same_file(source, target):
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            shutil.copy2(source, partial)  # with its modification time, which _same_file compares
            os.replace(partial, target)
    con.execute(f"SET extension_directory = '{root}'")
    con.execute("SET autoinstall_known_extensions = false")
    return root


def _same_file(source: Path, target: Path) -> bool:
    """Return whether target is the copy install() made of source: same size, same time."""
    try:
        got, want = target.stat(), source.stat()
    except FileNotFoundError:
        return False
    return (got.st_size, got.st_mtime_ns) == (want.st_size, want.st_mtime_ns)


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """Return a DuckDB connection that loads newsflow's extensions without checking their
    signatures again: DuckDB hashes a whole extension on every LOAD to check it (0.32 s for
    ducklake, sqlite_scanner and fts, on each connection), and load() takes them only from the
    wheels the lock pins by their SHA-256, which pip checked when it installed them, copied by
    install() with their size and modification time, which it compares on every load."""
    return duckdb.connect(database, config={"allow_unsigned_extensions": "true"})


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Load extensions into a connection from their installed wheels (copied as they are by
    install(), which connect() relies on); raise MissingExtension."""
    install(con, names)
    for name in names:
        con.execute(f"LOAD {name}")
