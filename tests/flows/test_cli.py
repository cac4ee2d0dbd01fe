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
        "feeds and sitemaps",
        "last runs",
    ):
        assert section in out.stdout


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance.registered_commands if group.typer_instance else []
        commands += [f"{group.name} {c.name}" for c in sub]
    assert "sources add" in commands
    assert [c for c in commands if not re.search(rf"newsflow {c}\b", readme)] == []


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


@pytest.mark.parametrize("flag", ["--feed", "--url"])
def test_run_refuses_a_source_that_is_not_a_url(tmp_path: Path, flag: str) -> None:
    db = tmp_path / "w.duckdb"
    out = runner.invoke(app, ["run", "--db", str(db), flag, "not-a-url"])
    assert out.exit_code == 2 and "not-a-url" in out.stderr and out.stdout == ""
    assert not db.exists()  # refused before the flow started: nothing recorded


@pytest.fixture
def no_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Seeds without a sources.toml: only the subscriptions are configured."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    monkeypatch.setenv("NEWSFLOW_SEEDS", str(seeds))
    return seeds


def test_sources_add_list_check_remove(httpserver, db_path: Path, no_sources_file: Path) -> None:
    items = "".join(
        f"<item><title>Story {i}</title><link>{httpserver.url_for(f'/s/{i}')}</link></item>" for i in range(3)
    )
    httpserver.expect_request("/rss/top.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    feed = httpserver.url_for("/rss/top.xml")
    db = ["--db", str(db_path)]
    added = runner.invoke(app, ["sources", "add", feed, "--name", "Top stories", *db])
    assert added.exit_code == 0, added.output
    assert f"subscribed: feed {feed}" in added.stdout
    listed = runner.invoke(app, ["sources", "list", "--format", "json", *db])
    assert [(r["kind"], r["uri"], r["name"], r["origin"]) for r in json.loads(listed.stdout)] == [
        ("feed", feed, "Top stories", "subscribed")
    ]
    checked = runner.invoke(app, ["sources", "check", *db], env={"COLUMNS": "200"})
    assert checked.exit_code == 0, checked.output
    assert f"feed {feed}: 3 entries" in checked.stdout and httpserver.url_for("/s/2") in checked.stdout
    assert runner.invoke(app, ["sources", "remove", feed, *db]).exit_code == 0
    again = runner.invoke(app, ["sources", "remove", feed, *db])
    assert again.exit_code == 1 and "not subscribed" in again.stderr
    assert json.loads(runner.invoke(app, ["sources", "list", "--format", "json", *db]).stdout) == []


def test_sources_check_exits_1_on_a_failing_source(httpserver, db_path: Path, no_sources_file: Path) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    out = runner.invoke(app, ["sources", "check", httpserver.url_for("/gone.xml"), "--db", str(db_path)])
    assert out.exit_code == 1 and "FAILED" in out.stdout and "http_410" in out.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["sources", "add", "not-a-url"], 2),  # refused before anything is written
        (["sources", "add", "ftp://example.org/feed"], 2),
        (["sources", "check", "example.org"], 2),
        (["sources", "check"], 2),  # nothing configured to check
    ],
)
def test_sources_refuse_bad_input(db_path: Path, no_sources_file: Path, args: list[str], code: int) -> None:
    out = runner.invoke(app, [*args, "--db", str(db_path)])
    assert out.exit_code == code and out.stderr.startswith("newsflow: ")
    assert not db_path.exists()


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
    _start_light([a.format(db=loaded_db) for a in args], ROOT)


def test_query_finds_the_warehouse_named_in_newsflow_toml(loaded_db: Path, tmp_path: Path) -> None:
    (tmp_path / "newsflow.toml").write_text(f'db = "{loaded_db}"\n')
    done = _start_light(["query", "SELECT count(*) AS n FROM articles", "--format", "csv"], tmp_path)
    assert done.stdout.splitlines() == ["n", "5"]


def _start_light(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter; check it imported no Prefect, trafilatura or pydantic."""
    done = subprocess.run(
        [sys.executable, "-c", START, *argv], cwd=cwd, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(done.stderr.splitlines()[-1]))
    assert "typer" in modules  # the command ran in this interpreter
    assert modules & {"prefect", "trafilatura", "langdetect", "pydantic_settings"} == set(), done.stdout
    return done


def test_python_dash_m_newsflow_runs_the_cli(tmp_path: Path) -> None:
    # from another folder: the installed module answers, not a newsflow.py in the working directory
    done = subprocess.run(
        [sys.executable, "-m", "newsflow", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("newsflow ")
