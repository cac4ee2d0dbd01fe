"""The newsflow CLI: query and stats on a real warehouse, and every command documented."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import ROOT
from tests.test_dedup import make
from tests.test_load import TEXTS, run

runner = CliRunner()


@pytest.fixture
def loaded_db(db_path: Path) -> Path:
    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)])
    return db_path


def test_query_prints_csv_and_json(loaded_db: Path) -> None:
    sql = "SELECT raw_uri, language FROM articles ORDER BY raw_uri LIMIT 2"
    out = runner.invoke(app, ["query", sql, "--db", str(loaded_db), "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert list(csv.reader(io.StringIO(out.stdout))) == [
        ["raw_uri", "language"],
        ["seeds/0.txt", "fr"],
        ["seeds/1.txt", "fr"],
    ]
    out = runner.invoke(app, ["query", sql, "--db", str(loaded_db), "--format", "json"])
    assert json.loads(out.stdout) == [
        {"raw_uri": "seeds/0.txt", "language": "fr"},
        {"raw_uri": "seeds/1.txt", "language": "fr"},
    ]


def test_query_reads_the_db_from_the_environment(loaded_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSFLOW_DB", str(loaded_db))
    out = runner.invoke(app, ["query", "SELECT count(*) AS n FROM articles", "--format", "csv"])
    assert out.stdout.splitlines() == ["n", "5"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        # a typo: DuckDB's message reaches the user, exit code 1
        ("SELEC 1", "query failed"),
        # the warehouse is opened read-only: writes are refused
        ("DELETE FROM articles", "query failed"),
    ],
)
def test_query_errors_are_reported(loaded_db: Path, sql: str, message: str) -> None:
    out = runner.invoke(app, ["query", sql, "--db", str(loaded_db), "--format", "csv"])
    assert out.exit_code == 1 and message in out.stderr
    assert out.stdout == ""  # never inside piped CSV


def test_query_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    out = runner.invoke(app, ["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code != 0 and "newsflow run" in out.output


def test_stats_prints_every_section(loaded_db: Path) -> None:
    out = runner.invoke(app, ["stats", "--db", str(loaded_db)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    for section in (
        "articles by source",
        "articles by language",
        "duplicates by kind",
        "quarantine by reason",
        "feed health",
        "last runs",
    ):
        assert section in out.stdout


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert commands and [c for c in commands if not re.search(rf"newsflow {c}\b", readme)] == []


@pytest.mark.parametrize(
    "value",
    [
        # square brackets are data, not Rich markup
        "firms [that specialize in] various",
        # a closing tag alone used to crash the table output
        "closing [/items] tag",
        # markup that would colour the cell
        "[red]x[/red]",
    ],
)
def test_table_output_prints_values_literally(loaded_db: Path, value: str) -> None:
    out = runner.invoke(app, ["query", f"SELECT '{value}' AS v", "--db", str(loaded_db)])
    assert out.exit_code == 0, out.output
    assert value in out.stdout and "1 row" in out.stdout


def test_query_reads_sql_from_stdin_and_prints_ndjson(loaded_db: Path) -> None:
    sql = "SELECT raw_uri FROM articles ORDER BY raw_uri LIMIT 2"
    out = runner.invoke(app, ["query", "--db", str(loaded_db), "--format", "jsonl"], input=sql)
    assert out.exit_code == 0, out.output
    assert [json.loads(line) for line in out.stdout.splitlines()] == [
        {"raw_uri": "seeds/0.txt"},
        {"raw_uri": "seeds/1.txt"},
    ]


def test_help_shows_defaults_literally_and_version_prints() -> None:
    out = runner.invoke(app, ["run", "-h"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "[env NEWSFLOW_DB;" in out.stdout and "[default <seeds>/sources.toml]" in out.stdout
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("newsflow ")


START = """
import json, sys
from flows.cli import app
try:
    app(sys.argv[1:], prog_name="newsflow")
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["query", "SELECT count(*) FROM articles", "--db", "{db}"],
        ["stats", "--db", "{db}"],
    ],
)
def test_help_query_and_stats_start_without_prefect_or_trafilatura(loaded_db: Path, args: list[str]) -> None:
    argv = [a.format(db=loaded_db) for a in args]
    done = subprocess.run(
        [sys.executable, "-c", START, *argv], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(done.stderr.splitlines()[-1]))
    assert "typer" in modules  # the command ran in this interpreter
    assert modules & {"prefect", "trafilatura", "langdetect", "pydantic_settings"} == set(), done.stdout
