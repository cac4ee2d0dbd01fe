"""Subscriptions: URLs checked, kinds guessed, stored in a real warehouse, and read with sources.toml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import warehouse
from tasks.records import Source
from tasks.sources import configured_sources, plan_sources
from tasks.subscriptions import (
    NotAUrl,
    check_url,
    guess_kind,
    read_subscriptions,
    status_rows,
    stored_subscriptions,
    subscribe,
    unsubscribe,
    writing,
)
from warehouse.writer import Warehouse

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",  # the typo of issue 14: exited 0 and stayed listed
        "example.org/feed",  # no scheme
        "ftp://example.org/feed",  # not http(s)
        "http:///feed",  # no host
        "http://exa mple.org/feed",  # a space
        "http://example.org:port/feed",  # a port that is no number
        "",
    ],
)
def test_check_url_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(NotAUrl):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.example-outlet.com/", "site"),
        ("https://www.example-outlet.com", "site"),
        ("https://www.example-outlet.com/sitemap_index.xml", "sitemap"),
        ("https://www.example-outlet.com/news-sitemap.xml", "sitemap"),
        ("https://www.example-outlet.com/archive/2026-11.xml.gz", "sitemap"),
        ("https://www.example-outlet.com/rss/politik.xml", "feed"),
        ("https://www.example-outlet.com/feed/", "feed"),
    ],
)
def test_guess_kind(url: str, kind: str) -> None:
    assert check_url(url) == url
    assert guess_kind(url) == kind


def test_subscribe_is_keyed_by_url_and_remove_forgets(db_path: Path) -> None:
    store = Warehouse(db_path)
    feed = Source("feed", "https://a.example/rss.xml", "A")
    sitemap = Source("sitemap", "https://a.example/news-sitemap.xml")
    with writing(store) as con:
        assert subscribe(con, [feed, sitemap, feed], NOW) == [feed, sitemap]
        again = subscribe(con, [Source("feed", feed.uri)], NOW)  # no name given: the old one stays
        assert again == []
    assert sorted((s.kind, s.uri, s.name or "") for s in stored_subscriptions(store)) == [
        ("feed", feed.uri, "A"),
        ("sitemap", sitemap.uri, ""),
    ]
    with writing(store) as con:
        assert unsubscribe(con, feed.uri)
        assert not unsubscribe(con, feed.uri)
        assert read_subscriptions(con) == [sitemap]
    assert stored_subscriptions(store) == [sitemap]
    with warehouse.connect(db_path, read_only=True) as con:
        assert read_subscriptions(con) == [sitemap]  # published: readers see it


def test_nothing_is_subscribed_before_a_warehouse_exists(db_path: Path) -> None:
    assert stored_subscriptions(Warehouse(db_path)) == []
    assert not db_path.exists()


def test_sources_toml_wins_for_a_url_in_both(tmp_path: Path) -> None:
    file = tmp_path / "sources.toml"
    file.write_text('feeds = ["https://a.example/x.xml"]\nsitemaps = ["https://a.example/s.xml"]\n')
    subscribed = [Source("sitemap", "https://a.example/x.xml", "mine"), Source("feed", "https://b.example/f")]
    configured = configured_sources(file, subscribed)
    assert sorted((s.kind, s.uri) for s in configured) == [
        ("feed", "https://a.example/x.xml"),
        ("feed", "https://b.example/f"),
        ("sitemap", "https://a.example/s.xml"),
    ]
    plan = plan_sources(None, configured, ["https://b.example/f", "https://c.example/once"], [])
    assert [s.uri for s in plan.feeds] == [
        "https://a.example/x.xml",
        "https://b.example/f",
        "https://c.example/once",
    ]
    assert [s.uri for s in plan.sitemaps] == ["https://a.example/s.xml"]


def test_status_rows_list_subscriptions_and_sources_toml_not_one_offs(db_path: Path) -> None:
    with writing(Warehouse(db_path)) as con:
        subscribe(con, [Source("feed", "https://a.example/rss", "A")], NOW)
        con.execute(
            "INSERT INTO sources VALUES (?, 'feed', 'https://once.example/rss', ?, 'r1')",
            [Source("feed", "https://once.example/rss").source_id, NOW],
        )
    in_file = [Source("feed", "https://a.example/rss"), Source("sitemap", "https://t.example/s.xml")]
    with warehouse.connect(db_path, read_only=True) as con:
        rows = status_rows(con, in_file)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("feed", "https://a.example/rss", "A", "both"),
        ("sitemap", "https://t.example/s.xml", None, "sources.toml"),  # no run read it yet
    ]
