"""A site subscribed through the CLI: discovery picks its feed and news sitemap, and the daily run
reads them, stores the sitemap's recent URLs, accounts for every item and says each source's state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

import warehouse
from flows.cli import app
from flows.ingest import ingest
from tasks.fetch.sitemaps import parse_sitemap
from tests.conftest import accounted, runs_accounted
from tests.fetch.test_discover import serve_outlet
from tests.fetch.test_sitemaps import fixture
from tests.flows.test_accounting import story
from tests.servers import another_server

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
runner = CliRunner()
# The fixtures' newest URLs are of 2026-11-20 and 21; those of early November and of 2025 are old.
WINDOW_START = datetime(2026, 11, 19, tzinfo=UTC)


@pytest.fixture
def feed_host() -> Iterator[HTTPServer]:
    with another_server() as server:
        yield server


def serve_stories(site: HTTPServer) -> list[str]:
    """Serve a story at every URL the fixtures' sitemaps and feed name; return the paths."""
    paths = ["/politik/1"]  # the feed's one item
    for name in ("handmade-news-sitemap.xml", "handmade-urlset-2026-11.xml", "handmade-urlset-2025-03.xml"):
        sitemap = parse_sitemap(fixture(name), "http://news.example/", max_bytes=1 << 20)
        paths += [urlsplit(item.entry.link or "").path for item in sitemap.urls]
    for i, path in enumerate(paths):
        site.expect_request(path).respond_with_data(story(100 + i), content_type="text/plain; charset=utf-8")
    return paths


def test_a_subscribed_site_is_read_by_the_run(
    httpserver: HTTPServer, feed_host: HTTPServer, tmp_path: Path, db_path: Path, monkeypatch
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    monkeypatch.setenv("NEWSFLOW_SEEDS", str(seeds))
    monkeypatch.setenv("NEWSFLOW_OBEY_ROBOTS", "true")
    days = (datetime.now(UTC) - WINDOW_START).total_seconds() / 86400
    monkeypatch.setenv("NEWSFLOW_SITEMAP_MAX_AGE_DAYS", f"{days:.3f}")
    serve_outlet(httpserver, feed_host)
    serve_stories(httpserver)
    db = ["--db", str(db_path)]

    added = runner.invoke(app, ["sources", "add", httpserver.url_for("/"), *db], env={"COLUMNS": "200"})
    assert added.exit_code == 0, added.output
    subscribed = [line.split()[1:] for line in added.stdout.splitlines() if line.startswith("subscribed:")]
    assert [kind for kind, _ in subscribed] == ["feed", "sitemap"]
    [sitemap_uri] = [uri for kind, uri in subscribed if kind == "sitemap"]

    first = accounted(ingest(db=str(db_path)))
    # the feed's item, the news sitemap's 3, November's 2 recent and 1 undated; not the old ones
    assert (first.discovered, first.new) == (7, 7)
    assert set(first.feeds.values()) == {"new"}
    with warehouse.connect(db_path, read_only=True) as con:
        from_sitemap = con.execute(
            "SELECT a.url FROM articles a JOIN subscriptions s USING (source_id) WHERE s.kind = 'sitemap'"
        ).fetchall()
        assert len(from_sitemap) == 6
        assert not any("/2025/" in url or "/2026/11/0" in url for (url,) in from_sitemap)

    second = accounted(ingest(db=str(db_path)))
    assert (second.discovered, second.new) == (0, 0)
    assert set(second.feeds.values()) == {"unchanged"}
    runs_accounted(db_path)

    listed = runner.invoke(app, ["sources", "list", "--format", "json", *db])
    rows = {r["uri"]: r for r in json.loads(listed.stdout)}
    assert rows[sitemap_uri]["articles_stored"] == 6 and rows[sitemap_uri]["entries_seen"] == 6
    assert {r["last_state"] for r in rows.values()} == {"unchanged"}
    assert all(r["consecutive_failures"] == 0 and r["last_success_at"] for r in rows.values())
    stats = runner.invoke(app, ["stats", *db], env={"COLUMNS": "250"})
    assert stats.exit_code == 0 and sitemap_uri in stats.stdout


def test_a_one_off_feed_is_read_but_not_subscribed(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    httpserver.expect_request("/once.xml").respond_with_data("broken", content_type="application/rss+xml")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    summary = accounted(ingest(db=str(db_path), seeds=str(seeds), feeds=[httpserver.url_for("/once.xml")]))
    assert summary.feeds == {httpserver.url_for("/once.xml"): "failed"}
    listed = runner.invoke(
        app, ["sources", "list", "--format", "json", "--db", str(db_path), "--config", "/dev/null"]
    )
    assert json.loads(listed.stdout) == []
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles_by_source").fetchone() == (0,)
        provenance = con.execute("SELECT uri FROM sources WHERE kind = 'feed'").fetchall()
        assert provenance == [(httpserver.url_for("/once.xml"),)]  # what it read stays recorded
