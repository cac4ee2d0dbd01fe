"""Run summaries: the markdown artifact lists each feed and sitemap by name and state, trouble first."""

from __future__ import annotations

from dataclasses import fields, replace

from tasks.report import RunSummary, summary_markdown


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
    text = summary_markdown(summary(feeds, {"https://a.example/rss": "A | Top"}), "r1")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "example" in line]
    assert [row.split("|")[1].strip().split(" ")[0] for row in rows] == [
        "failed",
        "backed",
        "unchanged",
        "read",
    ]
    assert "--force" in rows[1]
    assert "| A / Top | `https://a.example/rss` |" in rows[3]  # a | in a name cannot break the table


def test_a_run_without_feeds_says_so() -> None:
    assert "- none read" in summary_markdown(summary({}, {}), "r1")
