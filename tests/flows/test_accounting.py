"""Nothing lost silently: every item a run finds ends new, duplicate, unchanged, quarantined or
deferred, and what a run defers the next one takes, even from an unchanged feed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import warehouse
from flows.ingest import ingest
from tests.conftest import accounted

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]

WORDS = (
    "council",
    "budget",
    "river",
    "school",
    "mayor",
    "harbour",
    "vote",
    "bridge",
    "winter",
    "festival",
    "railway",
    "museum",
    "hospital",
    "farmers",
    "court",
    "teachers",
    "police",
    "market",
    "election",
    "storm",
    "library",
    "factory",
    "island",
    "minister",
    "village",
    "station",
    "airport",
    "workers",
    "tourists",
    "students",
    "energy",
    "water",
    "forest",
    "coast",
)


def story(number: int) -> bytes:
    """A plain-text story of its own: three paragraphs of sentences drawn from a seeded shuffle."""
    rng = random.Random(number)
    paragraphs = []
    for _ in range(3):
        sentences = [" ".join(rng.choices(WORDS, k=14)).capitalize() + "." for _ in range(4)]
        paragraphs.append(" ".join(sentences))
    return f"Story number {number}\n\n" + "\n\n".join(paragraphs) + "\n"


def feed(server: HTTPServer, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>{p}</title><link>{server.url_for(p)}</link></item>" for p in paths)
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    )


def table(db: Path, sql: str) -> list[tuple[object, ...]]:
    with warehouse.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_feed_past_its_cap_is_taken_over_two_runs(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    paths = [f"/story/{i}" for i in range(700)]
    for i, path in enumerate(paths):
        httpserver.expect_request(path).respond_with_data(story(i), content_type="text/plain; charset=utf-8")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed(httpserver, paths), content_type="application/rss+xml"
    )
    seeds = tmp_path / "no-seeds"
    seeds.mkdir()
    params = dict(db=str(db_path), seeds=str(seeds), feeds=[httpserver.url_for("/feed.xml")])

    first = accounted(ingest(**params))
    assert (first.discovered, first.new, first.deferred) == (700, 500, 200)
    assert first.deferred_reasons == {"entry_cap": 200}
    assert table(db_path, "SELECT count(*), min(reason), max(reason) FROM deferred") == [
        (200, "entry_cap", "entry_cap")
    ]

    second = accounted(ingest(**params))  # the feed is unchanged: only the deferred entries remain
    assert (second.feeds_unchanged, second.discovered, second.new, second.deferred) == (1, 200, 200, 0)
    assert table(db_path, "SELECT count(*) FROM deferred") == [(0,)]
    stored = {url for (url,) in table(db_path, "SELECT url FROM articles")}
    assert stored == {httpserver.url_for(p) for p in paths}

    third = accounted(ingest(**params))
    assert (third.discovered, third.new) == (0, 0)
    assert table(db_path, "SELECT count(*) FROM articles") == [(700,)]


def test_a_page_that_must_wait_is_taken_by_the_next_run_though_its_feed_is_unchanged(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    httpserver.expect_oneshot_request("/later").respond_with_data(
        "busy", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/later").respond_with_data(story(1), content_type="text/plain")
    httpserver.expect_request("/now").respond_with_data(story(2), content_type="text/plain")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed(httpserver, ["/now", "/later"]), content_type="application/rss+xml"
    )
    seeds = tmp_path / "no-seeds"
    seeds.mkdir()
    params = dict(db=str(db_path), seeds=str(seeds), feeds=[httpserver.url_for("/feed.xml")])

    first = accounted(ingest(**params))
    assert (first.new, first.deferred, first.quarantined) == (1, 1, 0)
    assert first.deferred_reasons == {"retry_later": 1}
    assert table(db_path, "SELECT uri, reason, times_deferred FROM deferred") == [
        (httpserver.url_for("/later"), "retry_later", 1)
    ]
    assert table(db_path, "SELECT count(*) FROM quarantine") == [(0,)]  # waiting is not failing

    second = accounted(ingest(**params))
    assert (second.feeds_unchanged, second.new, second.deferred) == (1, 1, 0)
    assert table(db_path, "SELECT count(*) FROM deferred") == [(0,)]
    [(title,)] = table(db_path, f"SELECT title FROM articles WHERE url = '{httpserver.url_for('/later')}'")
    assert title is not None  # fetched as the feed listed it: the entry's metadata came along
