"""Settings from newsflow.toml and pyproject.toml's [tool.newsflow], read with tomllib alone."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "warehouse" / "newsflow.sqlite"
FILE_VARIABLE = "NEWSFLOW_CONFIG_FILE"
# Relative paths in a file are read from the file's folder, as a reader of the file expects.
PATH_SETTINGS = frozenset({"db", "seeds", "config"})


class ConfigFileError(ValueError):
    """A configuration file that is missing, not TOML, or names no setting."""


def file_settings(cwd: Path | None = None) -> dict[str, Any]:
    """Return the settings the files give: newsflow.toml in cwd (or $NEWSFLOW_CONFIG_FILE) over
    [tool.newsflow] of cwd's pyproject.toml; empty when there is neither."""
    folder = cwd or Path.cwd()
    values: dict[str, Any] = {}
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        values.update(_resolved(_read(pyproject).get("tool", {}).get("newsflow", {}), pyproject))
    named = os.environ.get(FILE_VARIABLE)
    own = Path(named) if named else folder / "newsflow.toml"
    if named and not own.is_file():
        raise ConfigFileError(f"{FILE_VARIABLE} names no file: {own}")
    if own.is_file():
        values.update(_resolved(_read(own), own))
    return values


def configured_db(db: Path | None = None) -> Path:
    """Return the warehouse file: db, else $NEWSFLOW_DB, else the files' `db`, else the default;
    the precedence of Settings, without importing pydantic."""
    if db is not None:
        return db
    if os.environ.get("NEWSFLOW_DB"):
        return Path(os.environ["NEWSFLOW_DB"])
    return Path(file_settings().get("db", DEFAULT_DB))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}") from exc


def _resolved(table: Any, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: the newsflow settings must be a table of name = value")
    return {
        key: path.parent / value if key in PATH_SETTINGS and isinstance(value, str) else value
        for key, value in table.items()
    }
