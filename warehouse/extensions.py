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
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
    con.execute(f"SET extension_directory = '{root}'")
    con.execute("SET autoinstall_known_extensions = false")
    return root


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Load extensions into a connection from their installed wheels; raise MissingExtension."""
    install(con, names)
    for name in names:
        con.execute(f"LOAD {name}")
