"""Discovery: feed links in real captured pages, robots.txt Sitemap lines, and a whole site served
on loopback, with its feed on a second host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tasks.fetch.discover import Candidate, Found, best, candidates, discover, feed_links, robots_sitemaps
from tasks.fetch.polite import fetch_session
from tests.conftest import FIXTURES
from tests.fetch.conftest import test_policy
from tests.fetch.test_sitemaps import fixture, serve_site
from tests.servers import another_server

SITES = FIXTURES / "sites"


@pytest.mark.parametrize(
    ("page", "base", "feeds"),
    [
        # a real WordPress home page: one feed, absolute
        (
            "real-colours-of-the-soul-home.html",
            "http://www.colours-of-the-soul.alhelm.net/",
            ["http://www.colours-of-the-soul.alhelm.net/feed/"],
        ),
        # a news outlet's page: its section feed and its main feed, on other hosts
        (
            "real-sueddeutsche-article.html",
            "https://www.sueddeutsche.de/wirtschaft/x",
            [
                "http://rss.sueddeutsche.de/rss/Wirtschaft",
                "http://rssfeed.sueddeutsche.de/c/795/f/449002/index.rss",
            ],
        ),
        # a WordPress.com blog post: the blog's feed, then two comment feeds
        (
            "real-wordpress-kulinariaathome.html",
            "http://kulinariaathome.wordpress.com/2012/12/08/mandelplatzchen/",
            [
                "http://kulinariaathome.wordpress.com/feed/",
                "http://kulinariaathome.wordpress.com/comments/feed/",
                "http://kulinariaathome.wordpress.com/2012/12/08/mandelplatzchen/feed/",
            ],
        ),
        # a real home page that announces no feed
        ("real-pix-bavaria-home-no-feed.html", "https://www.pix-bavaria.de/", []),
        # relative links are resolved; a hreflang alternate is no feed
        (
            "handmade-home.html",
            "http://news.example/",
            ["http://news.example/rss/schlagzeilen.xml", "http://news.example/comments/feed/"],
        ),
    ],
)
def test_feed_links_in_pages(page: str, base: str, feeds: list[str]) -> None:
    assert [c.url for c in feed_links((SITES / page).read_bytes(), base)] == feeds


def test_the_story_feed_is_best_not_the_comments() -> None:
    page = (SITES / "real-wordpress-kulinariaathome.html").read_bytes()
    found = [Found(c, entries=10) for c in feed_links(page, "http://kulinariaathome.wordpress.com/")]
    assert [f.candidate.url for f in best(found)] == ["http://kulinariaathome.wordpress.com/feed/"]


def test_a_news_sitemap_is_best_among_sitemaps() -> None:
    found = [
        Found(Candidate("sitemap", "http://x.example/sitemap.xml", "robots.txt"), 40),
        Found(Candidate("sitemap", "http://x.example/news-sitemap.xml", "robots.txt"), 3, news=True),
        Found(Candidate("feed", "http://x.example/feed", "common path"), error="http_404: gone"),
    ]
    assert [f.candidate.url for f in best(found)] == ["http://x.example/news-sitemap.xml"]


def test_robots_sitemap_lines_any_case_relative_or_absolute() -> None:
    text = fixture("../sites/handmade-robots.txt").decode() + "SITEMAP: /extra.xml\n"
    assert [c.url for c in robots_sitemaps(text, "http://news.example")] == [
        "http://news.example/sitemap_index.xml",
        "http://news.example/news-sitemap.xml",
        "http://news.example/extra.xml",
    ]


def test_candidates_are_listed_once_announced_first() -> None:
    home = (SITES / "handmade-home.html").read_bytes()
    robots = "Sitemap: http://news.example/sitemap.xml\n"
    found = candidates("http://news.example/", home, robots)
    urls = [c.url for c in found]
    assert len(urls) == len(set(urls))
    assert urls[0] == "http://news.example/rss/schlagzeilen.xml"
    assert next(c for c in found if c.url == "http://news.example/sitemap.xml").found_in == "robots.txt"


@pytest.fixture
def feed_host() -> Iterator[HTTPServer]:
    with another_server() as server:
        yield server


def serve_outlet(site: HTTPServer, feeds: HTTPServer) -> None:
    """The home page, robots.txt and sitemaps on one host; its story feed on another."""
    home = (SITES / "handmade-home.html").read_bytes()
    home = home.replace(
        b'href="/rss/schlagzeilen.xml"', f'href="{feeds.url_for("/rss/schlagzeilen.xml")}"'.encode()
    )
    site.expect_request("/").respond_with_data(home, content_type="text/html; charset=utf-8")
    site.expect_request("/robots.txt").respond_with_data(
        fixture("../sites/handmade-robots.txt", site), content_type="text/plain"
    )
    serve_site(site)
    feeds.expect_request("/robots.txt").respond_with_data("none", status=404)  # all allowed
    item = f"<item><title>Haushalt</title><link>{site.url_for('/politik/1')}</link></item>"
    feeds.expect_request("/rss/schlagzeilen.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{item}</channel></rss>',
        content_type="application/rss+xml",
    )
    # the comments feed and every common path answer 404 (pytest-httpserver's default is 500)
    for path in (
        "/comments/feed/",
        "/feed",
        "/rss.xml",
        "/atom.xml",
        "/index.xml",
        "/feed.xml",
        "/sitemap.xml",
    ):
        site.expect_request(path).respond_with_data("not here", status=404)


def test_discover_finds_a_sites_feeds_and_sitemaps(httpserver: HTTPServer, feed_host: HTTPServer) -> None:
    serve_outlet(httpserver, feed_host)
    with fetch_session(test_policy(obey_robots=True)) as fetcher:
        found = discover(fetcher, httpserver.url_for("/"))
    usable = {
        (f.candidate.kind, f.candidate.url.split("/", 3)[3], f.candidate.found_in) for f in found if f.ok
    }
    assert usable == {
        ("feed", "rss/schlagzeilen.xml", "home page"),
        ("sitemap", "sitemap_index.xml", "robots.txt"),
        ("sitemap", "news-sitemap.xml", "robots.txt"),
    }
    assert {f.candidate.url.split("/", 3)[3]: f.error.split(":")[0] for f in found if f.error} == {
        "comments/feed/": "http_404",
        "feed": "http_404",
        "rss.xml": "http_404",
        "atom.xml": "http_404",
        "index.xml": "http_404",
        "feed.xml": "http_404",
        "sitemap.xml": "http_404",
    }
    chosen = best(found)
    assert [(f.candidate.kind, f.news) for f in chosen] == [("feed", False), ("sitemap", True)]
    index = next(f for f in found if f.index)
    assert index.news and index.entries == 3  # an index naming a news sitemap


def test_discovery_goes_through_the_guard(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("<html></html>", content_type="text/html")
    with fetch_session(test_policy(allow_hosts=frozenset())) as fetcher:
        found = discover(fetcher, httpserver.url_for("/"))
    assert found and all(f.error and f.error.startswith("blocked_address") for f in found)
    assert len(httpserver.log) == 0  # not one byte asked of a loopback address
