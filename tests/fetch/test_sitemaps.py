"""Sitemaps: parsing indexes, news, gzip and plain-text sitemaps, and reading them as sources."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.feeds import FeedRejected
from tasks.fetch.listing import fetch_feed, list_feeds
from tasks.fetch.polite import fetch_session
from tasks.fetch.sitemaps import parse_sitemap, recent, w3c_date
from tasks.records import Source
from tasks.sources import SourcePlan
from tests.conftest import FIXTURES
from tests.fetch.conftest import test_policy

SITEMAPS = FIXTURES / "sitemaps"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
BASE = "http://news.example/sitemap.xml"


def fixture(name: str, server: HTTPServer | None = None) -> bytes:
    """A sitemap fixture, its placeholder host replaced by the test server's address."""
    body = (SITEMAPS / name).read_bytes()
    return body.replace(b"http://news.example", server.url_for("").rstrip("/").encode()) if server else body


@pytest.mark.parametrize(
    ("name", "urls", "children", "faulty"),
    [
        # an index of a news sitemap and two monthly archives
        ("handmade-sitemap-index.xml", 0, 3, False),
        # Google News entries with image extensions and a CDATA title
        ("handmade-news-sitemap.xml", 3, 0, False),
        # a plain urlset: lastmod as dates, datetimes with zones, and none
        ("handmade-urlset-2026-11.xml", 5, 0, False),
        # cut mid-element: the entries before the break are kept, with the fault
        ("handmade-truncated-urlset.xml", 2, 0, True),
        # the protocol's text form: one URL a line
        ("handmade-plain-text-sitemap.txt", 2, 0, False),
    ],
)
def test_parse_sitemap_reads_each_form(name: str, urls: int, children: int, faulty: bool) -> None:
    sitemap = parse_sitemap(fixture(name), BASE, max_bytes=1 << 20)
    assert (len(sitemap.urls), len(sitemap.children), sitemap.fault is not None) == (urls, children, faulty)
    assert all((item.entry.link or "").startswith("http://news.example/") for item in sitemap.urls)


def test_news_entries_keep_title_date_and_language() -> None:
    sitemap = parse_sitemap(fixture("handmade-news-sitemap.xml"), BASE, max_bytes=1 << 20)
    derby = next(i.entry for i in sitemap.urls if "derby" in (i.entry.link or ""))
    assert derby.title == "Derby & Drama: 2:2 nach 0:2"
    assert derby.language == "de"
    assert derby.published == datetime(2026, 11, 21, 19, 15, tzinfo=UTC)  # +01:00 in the file
    assert {i.entry.language for i in sitemap.urls} == {"de", "en"}


def test_a_gzip_sitemap_reads_as_the_plain_one_and_is_cut_at_the_cap() -> None:
    plain = fixture("handmade-urlset-2026-11.xml")
    assert parse_sitemap(gzip.compress(plain), BASE, max_bytes=1 << 20) == parse_sitemap(
        plain, BASE, max_bytes=1 << 20
    )
    cut = parse_sitemap(gzip.compress(plain), BASE, max_bytes=len(plain) // 2)
    assert 0 < len(cut.urls) < 5
    assert cut.fault is not None and "size cap" in cut.fault


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # internal entities: refused before any parser sees them
        (fixture("handmade-entity-sitemap.xml"), "entity_declaration"),
        # the same in UTF-16, where a bytes search for "<!ENTITY" finds nothing
        ((FIXTURES / "hostile" / "billion-laughs-utf16.rss").read_bytes(), "entity_declaration"),
        # and inside a gzip file
        (gzip.compress(fixture("handmade-entity-sitemap.xml")), "entity_declaration"),
        # a feed is not a sitemap
        ((FIXTURES / "feeds" / "heise.atom").read_bytes(), "not_a_sitemap"),
        # nor is an HTML page
        (b"<!doctype html><html><body>404</body></html>", "not_a_sitemap"),
        # broken gzip
        (b"\x1f\x8b\x08\x00broken", "malformed_sitemap"),
    ],
)
def test_hostile_or_foreign_documents_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(FeedRejected) as refused:
        parse_sitemap(body, BASE, max_bytes=1 << 20)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-21", datetime(2026, 11, 21, tzinfo=UTC)),  # a date alone: midnight UTC
        ("2026-11-21T16:05:00+01:00", datetime(2026, 11, 21, 15, 5, tzinfo=UTC)),
        ("2026-11-21T16:05Z", datetime(2026, 11, 21, 16, 5, tzinfo=UTC)),  # no seconds
        ("2026-11-21T16:05:00.250-05:00", datetime(2026, 11, 21, 21, 5, 0, 250000, tzinfo=UTC)),
        ("yesterday", None),  # unreadable: undated, never a crash
        (None, None),
    ],
)
def test_w3c_dates(value: str | None, expected: datetime | None) -> None:
    assert w3c_date(value) == expected


def test_recent_keeps_the_window_and_undated_urls_newest_first() -> None:
    sitemap = parse_sitemap(fixture("handmade-urlset-2026-11.xml"), BASE, max_bytes=1 << 20)
    kept, old = recent(sitemap.urls, NOW, 2)
    assert old == 2  # the two of early November
    assert [e.link for e in kept] == [
        "http://news.example/kultur/2026/11/21/ausstellung-1.090",
        "http://news.example/wissen/2026/11/20/kometen-1.091",
        "http://news.example/ratgeber/steuern",  # undated: taken, after the dated ones
    ]


def serve_site(server: HTTPServer) -> None:
    """An outlet's sitemaps: an index, a news sitemap, a gzip archive and an old one."""
    server.expect_request("/sitemap_index.xml").respond_with_data(
        fixture("handmade-sitemap-index.xml", server), content_type="application/xml"
    )
    server.expect_request("/news-sitemap.xml").respond_with_data(
        fixture("handmade-news-sitemap.xml", server), content_type="text/xml"
    )
    server.expect_request("/sitemaps/2026-11.xml.gz").respond_with_data(
        gzip.compress(fixture("handmade-urlset-2026-11.xml", server)), content_type="application/x-gzip"
    )
    server.expect_request("/sitemaps/2025-03.xml.gz").respond_with_data("gone", status=404)


def test_a_sitemap_index_is_read_into_recent_urls_accounted_and_capped(httpserver: HTTPServer) -> None:
    serve_site(httpserver)
    source = Source("sitemap", httpserver.url_for("/sitemap_index.xml"))
    policy = test_policy(sitemap_max_age_days=2.0, max_entries=4)
    with fetch_session(policy) as fetcher:
        listing = list_feeds(fetcher, SourcePlan(None, [], [], [source]), frozenset(), now=NOW, health={})
    # news 3 + November's recent 2 + 1 undated; the archive of 2025 is older than the window: not asked
    assert listing.discovered == 6
    assert (len(listing.jobs), len(listing.deferred)) == (4, 2)
    assert {d.reason for d in listing.deferred} == {"entry_cap"}
    assert listing.feeds == {source.uri: "new"}
    assert listing.feed_faults == []
    assert not any(log.path == "/sitemaps/2025-03.xml.gz" for log, _ in httpserver.log)
    newest = listing.jobs[0]
    assert newest.url.endswith("/sport/2026/11/21/derby-1.102") and newest.entry is not None
    assert newest.entry.language == "de"


def test_a_failing_child_sitemap_is_a_fault_of_the_source_and_the_others_are_read(
    httpserver: HTTPServer,
) -> None:
    serve_site(httpserver)
    source = Source("sitemap", httpserver.url_for("/sitemap_index.xml"))
    policy = test_policy(sitemap_max_age_days=1000.0)  # the 2025 archive is due too, and answers 404
    with fetch_session(policy) as fetcher:
        listing = list_feeds(fetcher, SourcePlan(None, [], [], [source]), frozenset(), now=NOW, health={})
    assert [(q.uri.endswith("2025-03.xml.gz"), q.reason) for q in listing.feed_faults] == [(True, "http_404")]
    assert len(listing.jobs) == 3 + 5


def test_force_fetches_a_backed_off_source_without_validators(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/news-sitemap.xml").respond_with_data(
        fixture("handmade-news-sitemap.xml", httpserver), content_type="text/xml", headers={"ETag": '"v1"'}
    )
    source = Source("sitemap", httpserver.url_for("/news-sitemap.xml"))
    policy = test_policy(sitemap_max_age_days=1000.0)
    with fetch_session(policy) as fetcher:
        first = fetch_feed(fetcher, source, FeedHealth.new(source), now=NOW)
    backed_off = first.health.failed(NOW, "http_503: earlier", base=900, cap=86400)
    with fetch_session(policy) as fetcher:
        assert fetch_feed(fetcher, source, backed_off, now=NOW).outcome == "deferred"
        assert fetch_feed(fetcher, source, first.health, now=NOW).outcome == "unchanged"
    with fetch_session(replace(policy, force=True)) as fetcher:
        forced = fetch_feed(fetcher, source, backed_off, now=NOW)
    assert (forced.outcome, len(forced.entries)) == ("new", 3)
    assert "If-None-Match" not in httpserver.log[-1][0].headers


def test_a_refused_loopback_feed_names_the_setting_to_change(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data("<rss/>", content_type="application/rss+xml")
    source = Source("feed", httpserver.url_for("/feed.xml"))
    with fetch_session(test_policy(allow_hosts=frozenset())) as fetcher:
        result = fetch_feed(fetcher, source, FeedHealth.new(source), now=NOW)
    [fault] = result.feed_faults
    assert fault.reason == "blocked_address" and "NEWSFLOW_ALLOW_HOSTS" in fault.detail
    assert "NEWSFLOW_ALLOW_HOSTS" in (result.health.last_error or "")
    assert result.health.next_attempt_at is not None and result.health.next_attempt_at > NOW


def test_a_stored_url_whose_lastmod_moved_is_fetched_again_within_the_cap(httpserver: HTTPServer) -> None:
    from datetime import timedelta

    stamp = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    urls = "".join(
        f"<url><loc>{httpserver.url_for(p)}</loc><lastmod>{stamp}</lastmod></url>" for p in ("/a", "/b", "/c")
    )
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        content_type="application/xml",
    )
    source = Source("sitemap", httpserver.url_for("/sitemap.xml"))
    a, b, c = (httpserver.url_for(p) for p in ("/a", "/b", "/c"))
    # /a and /c were fetched before their lastmod, /b after it
    fetched = {a: NOW - timedelta(days=3), b: NOW - timedelta(minutes=5), c: NOW - timedelta(days=3)}
    policy = test_policy(sitemap_max_age_days=2.0)
    later = NOW - timedelta(hours=2)  # a lastmod after the listing's "now" is not believed
    with fetch_session(policy) as fetcher:
        plan = SourcePlan(None, [], [], [source])
        listing = list_feeds(fetcher, plan, frozenset(fetched), now=NOW, health={}, fetched=fetched)
        early = list_feeds(fetcher, plan, frozenset(fetched), now=later, health={}, fetched=fetched)
    assert [j.url for j in listing.jobs] == [a, c]
    assert (listing.revisits, listing.skipped_known, listing.discovered) == (2, 1, 3)
    assert (early.revisits, early.skipped_known) == (0, 3)
    forced = test_policy(sitemap_max_age_days=2.0, force=True, revisit_days=1.0, max_entries=1)
    with fetch_session(forced) as fetcher:
        capped = list_feeds(fetcher, plan, frozenset(fetched), now=NOW, health={}, fetched=fetched)
    # forced: /a (lastmod moved) and /b (fetched within a day) are due; the cap of 1 defers one
    assert ([j.url for j in capped.jobs], [d.uri for d in capped.deferred]) == ([a], [b, c])
    assert capped.discovered == 3
