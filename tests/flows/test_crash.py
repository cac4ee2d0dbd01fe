"""A `newsflow run` killed with SIGKILL at any point, or failing on a full disk, leaves the
warehouse consistent, and the next run completes the work once: real processes, a real Prefect
server, a real DuckLake warehouse, a real full disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import warehouse
from tests.conftest import FIXTURES, ROOT, SEEDS, runs_accounted
from tests.prefect_server import PrefectServer, Process, wait_for

pytestmark = [pytest.mark.server, pytest.mark.slow]

SEED_KEYS = sorted(f"seeds/{p.name}" for p in SEEDS.glob("*.txt"))
NEW = FIXTURES / "plaintext"


def newsflow(server: PrefectServer, tmp_path: Path, *crash: str, seeds: Path = SEEDS) -> list[str]:
    """Return the argv of `newsflow run` on the seeds into tmp_path, behind a fault if given."""
    args = ["run", "--db", str(tmp_path / "warehouse" / "newsflow.sqlite"), "--seeds", str(seeds)]
    if crash:
        return [sys.executable, "-m", "tests.crashpoint", *crash, *args]
    return [str(Path(sys.executable).parent / "newsflow"), *args]


def kill_at(server: PrefectServer, tmp_path: Path, point: str) -> None:
    """Run until point, then SIGKILL the run's whole process group (its pool workers too)."""
    marker = tmp_path / "reached"
    env = server.env(NEWSFLOW_BATCH_SIZE="2")  # several batches: a kill between them is possible
    run = Process(newsflow(server, tmp_path, "hang", point, str(marker)), env, tmp_path / "killed.log")
    try:
        wait_for(marker.exists, 180, f"the run to reach {point}", process=run)
    finally:
        os.killpg(run.popen.pid, signal.SIGKILL)
        run.popen.wait(10)


def rerun(server: PrefectServer, tmp_path: Path, seeds: Path = SEEDS) -> None:
    done = subprocess.run(
        newsflow(server, tmp_path, seeds=seeds),
        env=server.env(),
        cwd=ROOT,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def stored(db: Path) -> dict[str, list]:
    with warehouse.connect(db, read_only=True) as con:
        return {
            "articles": [r[0] for r in con.execute("SELECT raw_uri FROM articles ORDER BY 1").fetchall()],
            "signatures": con.execute("SELECT count(*) FROM signatures").fetchall(),
            "duplicates": con.execute("SELECT count(*) FROM duplicates").fetchall(),
            "runs": con.execute("SELECT status, counts FROM runs ORDER BY started_at").fetchall(),
        }


# (crash point, what the warehouse holds once the killed run is dead)
POINTS = {
    # during fetch and preparation: the first batch staged, the load not begun
    "tasks.stream:stage_batch+": "nothing",
    # inside the load transaction: articles inserted, quarantine and commit still to come
    "tasks.load:write_quarantine": "nothing",
    # after the lake committed the run's rows, before the writer's index took in their keys
    "warehouse.lake:commit_index": "loaded, index behind",
}


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_anywhere_is_completed_once_by_the_next(
    point: str, server: PrefectServer, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse" / "newsflow.sqlite"

    kill_at(server, tmp_path, point)

    # Consistent as the kill left it: the lake opens, and holds all of the run or none.
    after_kill = stored(db)
    if POINTS[point] == "nothing":
        assert after_kill["articles"] == [] and after_kill["signatures"] == [(0,)]
    else:
        assert after_kill["articles"] == SEED_KEYS

    rerun(server, tmp_path)

    published = stored(db)
    assert published["articles"] == SEED_KEYS  # each seed once
    assert published["signatures"] == [(len(SEED_KEYS),)]
    assert published["duplicates"] == [(0,)]
    statuses = [status for status, _ in published["runs"]]
    # the killed run is closed as failed by the next one, which finds its process gone
    assert statuses == ["failed", "completed"]
    assert json.loads(published["runs"][0][1])["error"].startswith("abandoned: its process")
    # the next run stores what the killed one did not, and knows what it did (the index caught up)
    assert json.loads(published["runs"][1][1])["new"] == (len(SEED_KEYS) if POINTS[point] == "nothing" else 0)
    runs_accounted(db)
    staging = db.parent / f".{db.stem}.staging"
    assert not any(staging.iterdir())  # the killed run's staged batches are gone


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MiB tmpfs for the warehouse folder; skipped where mounting is not allowed."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("fault", ["fill", "limit"])
def test_a_full_disk_during_the_load_fails_clearly_and_loses_nothing(
    fault: str, server: PrefectServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # fill: a real full file system (ENOSPC), where a tmpfs can be mounted;
    # limit: RLIMIT_FSIZE on the run (EFBIG), which needs no privilege.
    folder = request.getfixturevalue("small_disk") if fault == "fill" else tmp_path / "warehouse"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    rerun(server, tmp_path, seeds)
    db = folder / "newsflow.sqlite"
    before = stored(db)
    for path in NEW.glob("*.txt"):  # 16 articles unlike the seeds
        shutil.copy(path, seeds / path.name)

    failed = subprocess.run(
        newsflow(server, tmp_path, fault, "tasks.load:load_batches", str(folder), seeds=seeds),
        env=server.env(),
        cwd=ROOT,
        timeout=300,
        capture_output=True,
        text=True,
    )

    assert failed.returncode == 1
    reason = "No space left on device" if fault == "fill" else "File too large"
    message = " ".join(failed.stderr.split())  # one line on stderr, whatever the terminal width
    assert "run failed: the disk is full." in message and reason in message
    after_failure = stored(db)
    assert after_failure["articles"] == before["articles"]  # the load was rolled back
    assert after_failure["runs"][:-1] == before["runs"]  # and only the failed run was recorded

    (folder / "filler").unlink(missing_ok=True)
    rerun(server, tmp_path, seeds)

    after = stored(db)
    expected = sorted([*before["articles"], *(f"seeds/{p.name}" for p in NEW.glob("*.txt"))])
    assert after["articles"] == expected  # each once
    assert after["signatures"] == [(len(expected),)]
    assert [status for status, _ in after["runs"]] == ["completed", "failed", "completed"]
