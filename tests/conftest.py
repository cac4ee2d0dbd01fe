"""Shared fixtures: a Prefect test harness, warehouse paths, and the project's seed folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tasks.report import RunSummary

    from .prefect_server import PrefectServer

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A real `prefect server start` for this module, stopped with its process group."""
    from .prefect_server import PrefectServer

    server = PrefectServer(tmp_path_factory.mktemp("prefect-home"))
    try:
        server.start(timeout=180)
        yield server
    finally:
        server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh warehouse file path."""
    return tmp_path / "warehouse" / "newsflow.sqlite"


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A copy of the project's seed articles, free to add files to."""
    target = tmp_path / "seeds"
    target.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(autouse=True)
def fetch_reaches_the_test_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test servers listen on loopback, which the fetcher refuses unless listed."""
    monkeypatch.setenv("NEWSFLOW_ALLOW_HOSTS", "localhost,127.0.0.1")
    monkeypatch.setenv("NEWSFLOW_HOST_MIN_INTERVAL", "0")
    monkeypatch.setenv("NEWSFLOW_RETRY_BASE_DELAY", "0.01")
    # pytest-httpserver answers 500 to an unregistered /robots.txt (= robots_unavailable);
    # robots.txt handling is tested in test_hostile.py with an explicit policy.
    monkeypatch.setenv("NEWSFLOW_OBEY_ROBOTS", "false")


def accounted(summary: RunSummary) -> RunSummary:
    """Check the accounting rule on a run: every item it found reached exactly one outcome."""
    outcomes = summary.new + summary.duplicates + summary.unchanged + summary.quarantined + summary.deferred
    assert summary.discovered == outcomes, f"found {summary.discovered}, outcomes {outcomes}: {summary}"
    return summary


def runs_accounted(db: Path) -> None:
    """Check the accounting rule on every completed run a warehouse file records."""
    import warehouse

    with warehouse.connect(db, read_only=True) as con:
        rows = con.execute("SELECT counts FROM runs WHERE status = 'completed'").fetchall()
    assert rows, "no completed run"
    for (counts,) in rows:
        c = json.loads(counts)
        outcomes = c["new"] + c["duplicates"] + c["unchanged"] + c["quarantined"] + c["deferred"]
        assert c["discovered"] == outcomes, c
