"""Staging: prepared batches as Arrow files, and staging folders that outlive no live run."""

from __future__ import annotations

import os
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.staging import (
    StagingBusy,
    read_batch,
    remove_stale,
    staged_batches,
    staging_area,
    staging_root,
    write_batch,
)

from .conftest import SEEDS
from .test_dedup import make

TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def test_a_staged_batch_reads_back_equal(tmp_path: Path) -> None:
    full = replace(
        make(
            TEXTS[0],
            key="seeds/0.txt",
            url="https://example.org/a?utm_source=x",
            guid="g0",
            title="Titre",
            author="Auteur",
            published_at=datetime(2024, 5, 1, 8, 30, 1, 5, tzinfo=UTC),
            site_name="Site",
            description="Résumé",
            tags=("ia", "tech"),
        ),
        media_type="text/html",
        body_zlib=zlib.compress(b"<html>\x00\xff</html>", 6),
    )
    bare = make(TEXTS[1], key="seeds/1.txt")  # every optional field empty
    path = tmp_path / "000000.arrow"
    write_batch(path, [full, bare])
    assert read_batch(path) == [full, bare]
    write_batch(tmp_path / "000001.arrow", [])
    assert read_batch(tmp_path / "000001.arrow") == []
    assert staged_batches(tmp_path) == [path, tmp_path / "000001.arrow"]  # no partial files left


def test_a_staging_area_is_removed_on_exit_even_when_the_run_fails(tmp_path: Path) -> None:
    db = tmp_path / "newsflow.duckdb"
    with staging_area(db, "r1") as folder:
        write_batch(folder / "000000.arrow", [make(TEXTS[0], key="seeds/0.txt")])
    assert list(staging_root(db).iterdir()) == []
    with pytest.raises(ValueError), staging_area(db, "r2") as folder:
        raise ValueError("a task failed")
    assert not folder.exists() and list(staging_root(db).iterdir()) == []


def test_stale_staging_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    db = tmp_path / "newsflow.duckdb"
    root = staging_root(db)
    # A run killed between its first staged batch and its load: the kernel freed its lock.
    (root / "killed").mkdir(parents=True)
    (root / "killed" / "000000.arrow").write_bytes(b"batch")
    (root / "killed.lock").touch()
    (root / "lock-only.lock").touch()  # killed after locking, before its folder existed
    (root / "no-lock").mkdir()  # killed while removing its folder
    with staging_area(db, "live") as live:
        write_batch(live / "000000.arrow", [])
        # A second run starts while the first still stages: it must not take the live folder.
        with staging_area(db, "next") as other:
            assert sorted(p.name for p in root.iterdir()) == ["live", "live.lock", "next", "next.lock"]
            assert staged_batches(live) == [live / "000000.arrow"]
        assert not other.exists()
        assert remove_stale(root) == []
        with pytest.raises(StagingBusy), staging_area(db, "live"):
            pass
    assert os.listdir(root) == []
