"""The lake with its catalog on a real PostgreSQL server: a run stores and reads through it, and
several `newsflow run` processes, each with its own index, write through it one load at a time.

The server is Debian's `postgresql` (`make postgres` installs it), started here with initdb
into a temporary folder and `postgres` on a loopback port, as `nobody` when the tests run as
root (initdb refuses root); skipped only when no initdb is installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import warehouse
from tests.conftest import ROOT, SEEDS, accounted
from tests.prefect_server import PrefectServer, Process, free_port, wait_for

pytestmark = pytest.mark.slow

USER = "newsflow"  # the cluster's superuser, trusted on loopback


def postgres_bin() -> Path | None:
    """Return the folder of Debian's PostgreSQL programs (the newest), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True, slots=True)
class Server:
    bin: Path
    port: int

    def createdb(self) -> str:
        """Create an empty database; return its NEWSFLOW_CATALOG."""
        name = f"news_{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [self.bin / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name],
            check=True,
            capture_output=True,
        )
        return f"postgres:dbname={name} host=127.0.0.1 port={self.port} user={USER}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server of its own on a free loopback port, stopped and deleted after."""
    bin = postgres_bin()
    if bin is None:
        pytest.skip("no PostgreSQL initdb found: `make postgres` installs Debian's postgresql")
    # Outside pytest's tmp_path: a root-owned 0700 folder `nobody` could not enter.
    folder = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    user = None  # initdb refuses root: the cluster is nobody's then
    if os.geteuid() == 0:
        user = "nobody"
        shutil.chown(folder, user)
        shutil.chown(data, user)
    port = free_port()
    server = None
    try:
        subprocess.run(
            [bin / "initdb", "-D", data, "-U", USER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
        )
        with (folder / "server.log").open("wb") as log:
            server = subprocess.Popen(
                [str(bin / "postgres"), "-D", str(data), "-k", str(folder), "-p", str(port)]
                + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=user,
            )

        def ready() -> bool:
            probe = [str(bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
            return subprocess.run(probe, check=False).returncode == 0

        wait_for(ready, 60, "PostgreSQL to accept connections")
        yield Server(bin, port)
    finally:
        if server is not None:
            server.terminate()  # a smart shutdown: it waits for the clients, all gone by now
            server.wait(60)
        shutil.rmtree(folder, ignore_errors=True)


def articles(db: Path, catalog: str) -> list[str]:
    with warehouse.connect(db, read_only=True, catalog=catalog) as con:
        return [r[0] for r in con.execute("SELECT raw_uri FROM articles ORDER BY 1").fetchall()]


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_stores_its_articles_through_a_postgres_catalog(
    postgres: Server, seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    catalog = postgres.createdb()
    monkeypatch.setenv("NEWSFLOW_CATALOG", catalog)
    seeds = sorted(f"seeds/{p.name}" for p in seed_dir.glob("*.txt"))

    assert accounted(ingest(db=str(db_path), seeds=str(seed_dir))).new == len(seeds)
    assert articles(db_path, catalog) == seeds
    assert not db_path.exists()  # no SQLite catalog: the tables live on the server
    data = db_path.with_name("newsflow.files")
    assert list(data.rglob("*.parquet"))  # the data files beside db, as the catalog records
    with warehouse.connect(db_path, read_only=True, catalog=catalog) as con:
        row = con.execute("SELECT value FROM news.options() WHERE option_name = 'data_path'").fetchone()
    assert row == (str(data) + os.sep,)

    again = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert again.new == 0 and again.unchanged == len(seeds)
    assert articles(db_path, catalog) == seeds


@pytest.mark.server
def test_several_processes_write_one_postgres_lake_each_article_once(
    postgres: Server, server: PrefectServer, tmp_path: Path
) -> None:
    """Two `newsflow run` processes at once, each with its own NEWSFLOW_DB (own index and lock
    file), on seed folders sharing one file, write the same lake: each article once."""
    catalog = postgres.createdb()
    names = sorted(p.name for p in SEEDS.glob("*.txt"))
    shared, half = names[0], len(names) // 2
    runs = []
    for which, mine in (("a", names[:half]), ("b", [shared, *names[half:]])):
        seeds = tmp_path / which / "seeds"  # both "seeds/": the shared file has one key
        seeds.mkdir(parents=True)
        for name in mine:
            shutil.copy(SEEDS / name, seeds / name)
        db = tmp_path / which / "warehouse" / "newsflow.sqlite"
        argv = [str(Path(sys.executable).parent / "newsflow"), "run", "--db", str(db), "--seeds", str(seeds)]
        env = server.env(NEWSFLOW_CATALOG=catalog)
        runs.append((db, Process(argv, env, tmp_path / f"{which}.log", cwd=ROOT)))
    for db, run in runs:
        try:
            code = run.popen.wait(300)
        finally:
            run.stop()
        assert code == 0, run.tail()
        assert db.with_name(".newsflow.index.duckdb").exists()  # each process its own index

    db = runs[0][0]
    assert articles(db, catalog) == [f"seeds/{name}" for name in names]  # each article once
    with warehouse.connect(db, read_only=True, catalog=catalog) as con:
        done = con.execute("SELECT status, new_articles FROM runs").fetchall()
        lake = con.execute("SELECT value FROM news.options() WHERE option_name = 'data_path'").fetchone()
    assert [status for status, _ in done] == ["completed", "completed"]
    assert sum(new for _, new in done) == len(names)  # the shared file is new to one run only
    # One data folder, the one the first writer created and the catalog records, shared by both.
    folders = [d for d, _ in runs if list(d.with_name("newsflow.files").rglob("*.parquet"))]
    assert lake is not None and [str(d.with_name("newsflow.files")) + os.sep for d in folders] == [lake[0]]
    # The CLI reads the same lake through NEWSFLOW_CATALOG, no SQLite file needed.
    query = subprocess.run(
        [
            str(Path(sys.executable).parent / "newsflow"),
            "query",
            "--format",
            "csv",
            "--db",
            str(db),
            "SELECT count(*) AS n FROM articles",
        ],
        env=server.env(NEWSFLOW_CATALOG=catalog),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["n", str(len(names))]
