"""The warehouse's writer: runs publish a copy that users may hold open, one writer at a time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import warehouse
from tests.conftest import FIXTURES, ROOT, accounted
from warehouse.writer import publish, seed_writer, warehouse_slot, writer_path

NEW = FIXTURES / "plaintext"  # real articles unlike the seeds: each one is new to the warehouse


def articles(db: Path) -> list[str]:
    with warehouse.connect(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT raw_uri FROM articles ORDER BY raw_uri").fetchall()]


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
count = lambda c: c.execute("SELECT count(*) FROM articles").fetchone()[0]
print(count(con), flush=True)
sys.stdin.readline()
print(count(con), flush=True)
con.close()
print(count(duckdb.connect(sys.argv[1], read_only=True)), flush=True)
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
        )
        try:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == str(before)  # the file is open now
            shutil.copy(NEW / new, seed_dir / new)
            assert accounted(ingest(db=str(db_path), seeds=str(seed_dir))).new == 1, mode
            out, _ = reader.communicate("\n", timeout=60)
        finally:
            reader.kill()
        # the session's snapshot stays whole until it reopens the file, then it sees the run's work
        assert out.split() == [str(before), str(before + 1)], mode
    assert len(articles(db_path)) == 7


def test_a_warehouse_from_before_the_writer_file_is_kept(db_path: Path) -> None:
    with warehouse.connect(db_path) as con:  # as an older newsflow left it: no writer file
        warehouse.migrate(con)
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('old', now(), 'completed')")
    writer = writer_path(db_path)
    assert seed_writer(db_path, writer) and not seed_writer(db_path, writer)  # once, never over it
    publish(writer, db_path)
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("old",)]


HOLD_LOCK = """
import os, sys, time
from pathlib import Path
from warehouse.writer import warehouse_slot
with warehouse_slot(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_writer_lock_waits_names_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    writer = writer_path(tmp_path / "newsflow.duckdb")
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


def test_publish_removes_copies_left_by_a_run_killed_while_publishing(db_path: Path) -> None:
    writer = writer_path(db_path)
    with warehouse.connect(writer) as con:
        warehouse.migrate(con)
    leftover = db_path.with_name(f".{db_path.stem}.k1ll3d.publish{db_path.suffix}")
    leftover.write_bytes(b"half a copy")
    unrelated = db_path.with_name("notes.publish.txt")
    unrelated.write_text("mine")

    publish(writer, db_path)

    assert not leftover.exists() and unrelated.exists()
    assert sorted(p.name for p in db_path.parent.iterdir() if "publish" in p.name) == ["notes.publish.txt"]
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
