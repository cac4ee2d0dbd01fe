"""DuckDB extensions load from their installed wheels, offline, or fail saying what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import warehouse.extensions as extensions
from tests.test_load import TEXTS


@pytest.fixture(autouse=True)
def own_extension_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty extension directory: whatever loads was laid out from the wheels by this test."""
    folder = tmp_path / "extensions"
    monkeypatch.setenv("NEWSFLOW_EXTENSION_DIR", str(folder))
    return folder


def test_fts_loads_from_its_wheel_and_ranks_by_bm25(own_extension_dir: Path) -> None:
    with duckdb.connect() as con:
        extensions.load(con, "fts")
        assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (False,)
        con.execute("CREATE TABLE docs (id INTEGER, text VARCHAR)")
        con.executemany("INSERT INTO docs VALUES (?, ?)", list(enumerate(TEXTS)))
        con.execute("PRAGMA create_fts_index('docs', 'id', 'text')")
        word = max(TEXTS[2].split(), key=len).strip(".,;:!?«»\"'()")
        ranked = con.execute(
            "SELECT id FROM (SELECT id, fts_main_docs.match_bm25(id, ?) AS score FROM docs) "
            "WHERE score IS NOT NULL ORDER BY score DESC",
            [word],
        ).fetchall()
    assert ranked and ranked[0] == (2,)
    assert list(own_extension_dir.rglob("fts.duckdb_extension"))


def test_ducklake_attaches_a_sqlite_catalog_offline(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        extensions.load(con, "ducklake", "sqlite_scanner")
        con.execute(
            f"ATTACH 'ducklake:sqlite:{tmp_path / 'catalog.sqlite'}' AS lake (DATA_PATH '{tmp_path}/data/')"
        )
        con.execute("CREATE TABLE lake.t AS SELECT 42 AS answer")
        assert con.execute("SELECT answer FROM lake.t").fetchall() == [(42,)]


def test_a_changed_copy_is_laid_out_again_before_an_unchecked_load(own_extension_dir: Path) -> None:
    with extensions.connect() as con:
        extensions.load(con, "fts")
    (copy,) = own_extension_dir.rglob("fts.duckdb_extension")
    size = copy.stat().st_size
    # Same size, other bytes, a newer time; a new file, as the loaded one stays mapped.
    changed = copy.with_suffix(".changed")
    changed.write_bytes(b"\0" * size)
    changed.replace(copy)
    with extensions.connect() as con:  # skips DuckDB's signature check: the copy must be the wheel's
        extensions.load(con, "fts")
        assert con.execute("SELECT stem('running', 'english')").fetchone() == ("run",)
    assert copy.read_bytes() == extensions._wheel_binary("fts").read_bytes()


def test_a_missing_extension_says_what_to_install() -> None:
    with duckdb.connect() as con, pytest.raises(extensions.MissingExtension, match="not installed"):
        extensions.load(con, "spatial")


def test_the_pinned_duckdb_cli_reads_the_warehouse(db_path: Path) -> None:
    from tests.test_dedup import make
    from tests.test_load import run

    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)])
    newsflow = Path(sys.executable).parent / "newsflow"
    out = subprocess.run(
        [str(newsflow), "shell", "--db", str(db_path), "-csv", "-c", "SELECT count(*) AS n FROM articles"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", str(len(TEXTS))]
