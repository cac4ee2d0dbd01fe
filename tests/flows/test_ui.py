"""What a run shows in the Prefect UI: its name, the progress artifact, the markdown summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import warehouse
from flows.ingest import ingest
from tasks.progress import PROGRESS_KEY
from tests.conftest import accounted

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
DUE = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def last_run(db: Path) -> str:
    with warehouse.connect(db, read_only=True) as con:
        [(run_id,)] = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()
    return str(run_id)


def artifacts(run_id: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        return {"name": client.read_flow_run(run_id).name, **{a.key: a for a in found}}


def test_a_run_is_named_for_its_sources_and_shows_progress_and_summary(
    seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    shown = artifacts(last_run(db_path))
    assert re.fullmatch(f"all sources {DUE}", shown["name"])
    progress = shown[PROGRESS_KEY]
    assert (progress.type, progress.data) == ("progress", 100.0)
    assert progress.description.startswith("5 of 5 items settled")
    assert "5 articles staged" in progress.description
    summary = shown["newsflow-run-summary"].data
    assert summary.startswith(f"# newsflow run {shown['name']}\n")
    assert f"seeds folder `{seed_dir.resolve()}`" in summary
    assert re.search(r"\*\*Took\*\* \d+\.\d s", summary)

    monkeypatch.setenv("NEWSFLOW_WORKERS", "0")  # prepared batch by batch: progress counted there too
    (seed_dir / "new.txt").write_text((seed_dir / "000_ad7065b6d2865418.txt").read_text() + "\nFin.")
    accounted(ingest(db=str(db_path), seeds=str(seed_dir), sources=[str(seed_dir / "new.txt")]))
    shown = artifacts(last_run(db_path))
    assert re.fullmatch(f"file new.txt {DUE}", shown["name"])
    assert "(only `new.txt`)" in shown["newsflow-run-summary"].data
    assert shown[PROGRESS_KEY].description.startswith("1 of 1 items settled")
