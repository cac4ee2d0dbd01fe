"""The warehouse's writer: readers never block a run and see whole runs; one writer at a time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import warehouse
from tests.conftest import FIXTURES, ROOT, accounted
from warehouse.writer import warehouse_slot

NEW = FIXTURES / "plaintext"  # real articles unlike the seeds: each one is new to the warehouse


def articles(db: Path) -> list[str]:
    with warehouse.connect(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT raw_uri FROM articles ORDER BY raw_uri").fetchall()]


READER = """
import sys
from pathlib import Path
import warehouse
from warehouse.lake import Lake
if sys.argv[2] == "ro":
    con = warehouse.connect(sys.argv[1], read_only=True)
else:  # a user's session attached for writing, as the DuckDB CLI would without READ_ONLY
    import duckdb
    from warehouse import extensions
    con = duckdb.connect()
    extensions.load(con, "ducklake", "sqlite_scanner")
    con.execute(Lake.at(Path(sys.argv[1])).attach_sql("news", read_only=False))
    con.execute("USE news")
count = lambda c: c.execute("SELECT count(*) FROM articles").fetchone()[0]
print(count(con), flush=True)
sys.stdin.readline()
print(count(con), flush=True)
con.close()
print(count(warehouse.connect(sys.argv[1], read_only=True)), flush=True)
"""


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_user_holding_the_warehouse_open_never_fails_a_run(seed_dir: Path, db_path: Path) -> None:
    from flows.ingest import ingest

    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    sessions = (("rw", "en_blog_python_org.txt", 5), ("ro", "es_diaadia_com_pa_ulpiano.txt", 6))
    for mode, new, before in sessions:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(db_path), mode],
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == str(before)  # the lake is open now
            shutil.copy(NEW / new, seed_dir / new)
            assert accounted(ingest(db=str(db_path), seeds=str(seed_dir))).new == 1, mode
            out, _ = reader.communicate("\n", timeout=60)
        finally:
            reader.kill()
        # an open session sees the run's work at its next query, without reopening
        assert out.split() == [str(before + 1), str(before + 1)], mode
    assert len(articles(db_path)) == 7


LOOPING_READER = """
import sys, time
import warehouse
con = warehouse.connect(sys.argv[1], read_only=True)
seen = set()
print("ready", flush=True)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    seen.add(con.execute("SELECT count(*) FROM articles").fetchone()[0])
    if int(sys.argv[2]) in seen:
        break
print(" ".join(str(n) for n in sorted(seen)), flush=True)
"""


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_reader_querying_during_a_run_sees_all_of_it_or_none(
    seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    for name in ("en_blog_python_org.txt", "es_diaadia_com_pa_ulpiano.txt"):
        shutil.copy(NEW / name, seed_dir / name)
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "1")  # staged batch by batch, one lake transaction
    reader = subprocess.Popen(
        [sys.executable, "-c", LOOPING_READER, str(db_path), "7"], text=True, stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        assert accounted(ingest(db=str(db_path), seeds=str(seed_dir))).new == 2
        out, _ = reader.communicate(timeout=150)
    finally:
        reader.kill()
    assert out.split() == ["5", "7"]  # never 6: half a run


HOLD_LOCK = """
import os, sys, time
from pathlib import Path
from warehouse.writer import warehouse_slot
with warehouse_slot(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_writer_lock_waits_names_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    writer = tmp_path / ".newsflow.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(writer)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(TimeoutError, match=f"held by pid {holder.pid} on"),
            warehouse_slot(writer, timeout=0.5),
        ):
            pass
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait(10)
        with warehouse_slot(writer, timeout=5):
            pass
    finally:
        holder.kill()
