"""Run summaries and names: the markdown artifact names sources, duration, feeds by state, queries."""

from __future__ import annotations

import shlex
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.records import Source
from tasks.report import RunReport, RunSummary, run_name, summary_markdown
from tasks.sources import SourcePlan
from tests.test_dedup import make
from tests.test_load import TEXTS, run

SEEDS = SourcePlan(Source("seeds", "/srv/news/seeds"), [], [])
WHEN = datetime(2026, 12, 1, 6, 0)


def report(
    plan: SourcePlan = SEEDS, files: tuple[Path, ...] = (), db: Path = Path("/w/n.duckdb")
) -> RunReport:
    return RunReport("r1", "daily 2026-12-01 06:00", plan, files, 12.34, db)


def summary(feeds: dict[str, str], names: dict[str, str]) -> RunSummary:
    empty = {f.name: {} if str(f.type).startswith("dict") else 0 for f in fields(RunSummary)}
    return replace(RunSummary(**empty), feeds=feeds, feed_names=names)


def test_the_markdown_lists_sources_by_name_and_state_failed_first() -> None:
    feeds = {
        "https://a.example/rss": "new",
        "https://b.example/news-sitemap.xml": "deferred",
        "https://c.example/feed": "failed",
        "https://d.example/atom": "unchanged",
    }
    text = summary_markdown(summary(feeds, {"https://a.example/rss": "A | Top"}), report())
    rows = [line for line in text.splitlines() if line.startswith("| ") and "example" in line]
    assert [row.split("|")[1].strip().split(" ")[0] for row in rows] == [
        "failed",
        "backed",
        "unchanged",
        "read",
    ]
    assert "--force" in rows[1]
    assert "1 failed, 1 backed off, 1 unchanged, 1 read" in text
    assert "| A / Top | `https://a.example/rss` |" in rows[3]  # a | in a name cannot break the table


def test_a_run_without_feeds_says_so() -> None:
    assert "- none read" in summary_markdown(summary({}, {}), report())


@pytest.mark.parametrize(
    ("plan", "files", "line"),
    [
        # a full run: the seeds folder and the web sources, one named, several counted
        (
            SourcePlan(
                Source("seeds", "/s"), [Source("feed", "https://a/rss"), Source("feed", "https://b/rss")], []
            ),
            (),
            "**Sources**: seeds folder `/s`; 2 feeds",
        ),
        # a run limited to files the watcher sent
        (SEEDS, (Path("/srv/news/seeds/a.txt"), Path("/srv/news/seeds/b.txt")), "(only `a.txt`, `b.txt`)"),
        # one page
        (
            SourcePlan(None, [], [Source("page", "https://x/story")]),
            (),
            "**Sources**: page `https://x/story`",
        ),
    ],
)
def test_the_markdown_names_the_sources_and_the_duration(
    plan: SourcePlan, files: tuple[Path, ...], line: str
) -> None:
    text = summary_markdown(summary({}, {}), report(plan, files))
    assert text.startswith("# newsflow run daily 2026-12-01 06:00\n")
    assert line in text
    assert "**Took** 12.3 s" in text


def test_the_markdown_queries_run_as_pasted(db_path: Path) -> None:
    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt") for i, t in enumerate([*TEXTS, TEXTS[0]])])
    text = summary_markdown(summary({}, {}), report(db=db_path))
    block = text.split("```sh\n")[1].split("```")[0]
    commands = [shlex.split(line) for line in block.replace("\\\n", "").splitlines()]
    assert [c[:2] for c in commands] == [["newsflow", "query"]] * 2
    outputs = []
    for command in commands:
        out = CliRunner().invoke(app, [*command[1:], "--format", "csv"])
        assert out.exit_code == 0, out.output
        outputs.append(out.stdout.splitlines())
    assert outputs[0] == ["stage,reason,uri,detail"]  # nothing set aside
    assert outputs[1][0] == "kind,similarity,duplicate_id,original_title"
    assert [row.split(",")[0] for row in outputs[1][1:]] == ["content"]  # the copy of TEXTS[0]


@pytest.mark.parametrize(
    ("named", "deployment", "given", "name"),
    [
        # the schedule's run
        ([], "daily-ingest", 0, "daily 2026-12-01 06:00"),
        # an event's run: the file, whichever deployment ran it
        (
            ["file:///srv/news/seeds/article-3.txt"],
            "ingest-on-event",
            0,
            "file article-3.txt 2026-12-01 06:00",
        ),
        # the watcher's batch: the first two, then how many more
        (
            ["/s/a.txt", "/s/b.txt", "/s/c.txt"],
            "ingest-on-event",
            0,
            "files a.txt, b.txt +1 2026-12-01 06:00",
        ),
        # a page named by URL
        (
            ["https://example.org/2026/story.html"],
            None,
            0,
            "url example.org/2026/story.html 2026-12-01 06:00",
        ),
        # newsflow run, with and without one-off feeds
        ([], None, 0, "all sources 2026-12-01 06:00"),
        ([], None, 2, "all sources +2 given 2026-12-01 06:00"),
    ],
)
def test_a_run_name_says_what_ran_and_when(
    named: list[str], deployment: str | None, given: int, name: str
) -> None:
    assert run_name(named, deployment, given, WHEN) == name
