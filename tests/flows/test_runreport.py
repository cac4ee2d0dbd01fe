"""What `newsflow run` prints at the end: the load report, and the line after Ctrl-C."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

import warehouse
from flows.runreport import Finished, interrupted_message, print_report
from tests.test_dedup import make
from tests.test_load import TEXTS, run
from tests.test_report import summary


def report(finished: Finished) -> list[str]:
    out = io.StringIO()
    counts = replace(
        summary(
            {
                "https://a.example/rss": "failed",
                "https://b.example/feed": "new",
                "https://c.example/x": "new",
            },
            {"https://b.example/feed": "[B] news"},
        ),
        discovered=4,
        new=3,
        quarantined=1,
        languages={"fr": 3},
    )
    print_report(Console(file=out, width=200), counts, finished)
    return out.getvalue().splitlines()


def test_the_load_report_names_run_warehouse_outcomes_feeds_and_link(tmp_path: Path) -> None:
    lines = report(Finished(tmp_path / "w.duckdb", "0b1c", 12.34, "http://127.0.0.1:4200"))
    assert lines[:2] == ["newsflow run 0b1c completed in 12.3 s", f"warehouse: {tmp_path / 'w.duckdb'}"]
    assert any(
        line.split("│")[1:-1]
        == ["          4 ", "   3 ", "          0 ", "         0 ", "           1 ", "        0 "]
        for line in lines
    ), lines
    assert "languages: fr=3" in lines
    # feeds by state, trouble first, then each one; names printed literally
    assert "feeds and sitemaps: 1 failed, 2 read" in lines
    assert lines.index("  failed: https://a.example/rss") < lines.index(
        "  read: [B] news https://b.example/feed"
    )
    assert lines[-1] == "Prefect UI: http://127.0.0.1:4200/runs/flow-run/0b1c"


def test_no_link_without_a_prefect_server(tmp_path: Path) -> None:
    assert not any(
        "Prefect UI" in line for line in report(Finished(tmp_path / "w.duckdb", "0b1c", 1.0, None))
    )


def test_the_interrupted_line_says_what_was_kept(db_path: Path) -> None:
    # a run of this process that got as far as its load: its articles stay
    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt", run_id="r1") for i, t in enumerate(TEXTS)])
    with warehouse.connect(db_path, read_only=True) as con:
        line = interrupted_message(con)
    assert line.startswith("interrupted after run r1 loaded its 5 new articles") and "nothing twice" in line
    # no warehouse yet: nothing written
    assert interrupted_message(None).startswith("interrupted before the run opened the warehouse")
