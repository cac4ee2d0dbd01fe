"""Shared fixtures: a Prefect test harness, warehouse paths, and the project's seed folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = ROOT / "seeds"

# Tests own their Prefect profile and settings; a developer's server is never touched.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.pop("NEWSFLOW_DB", None)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Run flows against one temporary Prefect server and database for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh warehouse file path."""
    return tmp_path / "warehouse" / "newsflow.duckdb"


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A copy of the project's seed articles, free to add files to."""
    target = tmp_path / "seeds"
    target.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, target / path.name)
    return target
