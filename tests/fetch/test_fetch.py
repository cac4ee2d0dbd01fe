"""Fetching: seed folders, feed parsing on real captured feeds, and HTTP over a local server."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tasks.fetch import fetch_chunk, list_web
from tasks.fetch.addresses import parse_allow_hosts
from tasks.fetch.faults import FetchError, TransientFetchError
from tasks.fetch.feeds import FeedRejected, parse_feed
from tasks.fetch.files import list_folder, read_folder
from tasks.fetch.http import get, http_client
from tasks.fetch.listing import Opened
from tasks.fetch.pages import chunks
from tasks.fetch.polite import fetch_session
from tasks.records import RawDocument, Source
from tasks.sources import SourcePlan
from tests.conftest import FIXTURES
from tests.fetch.conftest import crawl, test_policy

NOW = datetime(2026, 11, 22, tzinfo=UTC)
FEEDS = FIXTURES / "feeds"
BASE = "http://127.0.0.1:9/feeds/feed.xml"
LOCAL = "localhost,127.0.0.1"  # the test server's names: loopback is refused unless listed


@pytest.fixture(autouse=True)
def local_server_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the fetcher reach the test server, without the production pauses between requests."""
    monkeypatch.setenv("NEWSFLOW_ALLOW_HOSTS", LOCAL)
    monkeypatch.setenv("NEWSFLOW_HOST_MIN_INTERVAL", "0")
    monkeypatch.setenv("NEWSFLOW_RETRY_BASE_DELAY", "0.01")


def test_read_folder_reads_the_seeds(seed_dir: Path) -> None:
    docs, bad = read_folder(seed_dir, Source("seeds", str(seed_dir)), now=NOW, max_bytes=1 << 20)
    assert [d.uri for d in docs] == [f"seeds/{p.name}" for p in sorted(seed_dir.glob("*.txt"))]
    assert bad == [] and all(d.media_type == "text/plain" for d in docs)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        # an empty file and a whitespace-only one
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n\t", "empty"),
        # binary content under a text name
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        # over the size cap
        ("huge.txt", b"word " * 400, "too_large"),
    ],
)
def test_read_folder_quarantines_bad_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "notes.md").write_text("not an article file: ignored")
    docs, bad = read_folder(tmp_path, Source("seeds", str(tmp_path)), now=NOW, max_bytes=1000)
    assert docs == []
    assert [(q.uri, q.reason) for q in bad] == [(f"{tmp_path.name}/{name}", reason)]


def test_read_folder_refuses_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not for ingestion " * 10)
    folder = tmp_path / "drop"
    folder.mkdir()
    os.symlink(outside, folder / "link.txt")
    docs, bad = read_folder(folder, Source("seeds", str(folder)), now=NOW, max_bytes=1 << 20)
    assert docs == [] and [q.reason for q in bad] == ["outside_folder"]


@pytest.mark.parametrize(
    ("fixture", "entries", "first_link", "faulty"),
    [
        # Atom, links carrying tracking parameters
        (
            "heise.atom",
            15,
            "http://www.heise.de/developer/meldung/Java-Anwendungsserver-Red-Hat-"
            "gibt-WildFly-10-frei-3088438.html?wt_mc=rss.developer.beitrag.atom",
            False,
        ),
        # RSS 2.0 declared UTF-8 but encoded windows-1252: salvaged, fault recorded
        ("uol-noticias-mislabelled-charset.rss", 15, None, True),
        # RDF (RSS 1.0) from ORF
        ("orf-rdf.xml", 1, "https://orf.at/stories/3380633/", False),
        # ISO-8859-1 RSS 1.0 from Golem
        ("golem-iso8859.rdf", 1, None, False),
        # malformed XML (declaration not at start): salvaged by the loose parser
        ("androidauthority-malformed.xml", 1, None, True),
        # relative links resolve against the feed's own URL
        ("atom-relative-url.xml", 1, "http://127.0.0.1:9/2024/12/18/What-The-Distribution.html", False),
        # JSON Feed, which feedparser cannot read
        ("daringfireball.json", 2, "https://daringfireball.net/linked/2020/01/24/bezos-iphone-x", False),
    ],
)
def test_parse_real_feeds(fixture: str, entries: int, first_link: str | None, faulty: bool) -> None:
    parsed, fault = parse_feed((FEEDS / fixture).read_bytes(), BASE)
    assert len(parsed) == entries
    assert all(e.link and e.link.startswith("http") for e in parsed)
    assert all(e.title for e in parsed)
    if first_link:
        assert parsed[0].link == first_link
    assert (fault is not None) == faulty


def test_parse_feed_keeps_entry_metadata() -> None:
    [entry] = parse_feed((FEEDS / "orf-rdf.xml").read_bytes(), BASE)[0][:1]
    assert entry.guid == "https://orf.at/stories/3380633/"
    assert entry.title == "Kiew erneut Ziel russischer Drohnenangriffe"
    assert entry.published == datetime(2025, 1, 3, 9, 14, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # billion laughs: entity declarations never reach feedparser
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel><item>'
            b"<title>&a;</title></item></channel></rss>",
            "entity_declaration",
        ),
        # an HTML page where a feed was expected
        (b"<html><body><p>Not a feed</p></body></html>", "not_a_feed"),
        # a feed with no entries
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>', "empty_feed"),
        # a JSON document that is not a JSON Feed
        (b'{"hello": "world"}', "malformed_feed"),
    ],
)
def test_parse_feed_rejects(body: bytes, reason: str) -> None:
    with pytest.raises(FeedRejected) as info:
        parse_feed(body, BASE)
    assert info.value.reason == reason


def _get(server: HTTPServer, path: str, max_bytes: int = 1 << 20) -> object:
    with http_client(user_agent="newsflow-test", timeout=5, allow_hosts=LOCAL) as client:
        return get(client, server.url_for(path), max_bytes=max_bytes, accept=("text/html",))


def test_get_follows_redirects_and_reads_charset(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data(
        "<p>é</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    resp = _get(httpserver, "/old")
    assert resp.url == httpserver.url_for("/new")  # type: ignore[attr-defined]
    assert (resp.media_type, resp.charset) == ("text/html", "iso-8859-1")  # type: ignore[attr-defined]


def test_get_decodes_gzip_and_caps_the_decoded_size(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"<p>" + b"a" * 200_000 + b"</p>")  # ~200 KB decoded from ~200 bytes
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError) as info:
        _get(httpserver, "/bomb", max_bytes=50_000)
    assert info.value.reason == "too_large"


@pytest.mark.parametrize(
    ("status", "content_type", "error", "reason"),
    [
        # permanent: no retry
        (404, "text/html", FetchError, "http_404"),
        (410, "text/html", FetchError, "http_410"),
        # transient: retried by the caller's policy
        (503, "text/html", TransientFetchError, "http_503"),
        (429, "text/html", TransientFetchError, "http_429"),
        # a PDF where an article page was expected
        (200, "application/pdf", FetchError, "unsupported_content_type"),
    ],
)
def test_get_errors(httpserver: HTTPServer, status: int, content_type: str, error: type, reason: str) -> None:
    httpserver.expect_request("/x").respond_with_data("body", status=status, content_type=content_type)
    with pytest.raises(error) as info:
        _get(httpserver, "/x")
    assert info.value.reason == reason
    assert type(info.value) is error


def _rss(server: HTTPServer, links: list[str]) -> bytes:
    items = "".join(
        f'<item><title>Story {i}</title><link>{link}</link><guid isPermaLink="false">g{i}</guid>'
        f"<description>Summary {i}</description></item>"
        for i, link in enumerate(links)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>".encode()


def test_a_crawl_fetches_new_entries_and_quarantines_failures(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    page = (FIXTURES / "feeds" / "heise.atom").read_bytes()  # any bytes: cleaning is not tested here
    httpserver.expect_request("/a").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        _rss(httpserver, ["/a", "/gone", "/known", "/a"]), content_type="application/rss+xml"
    )
    feed = Source("feed", httpserver.url_for("/feed.xml"))
    fetched = crawl(
        test_policy(user_agent="newsflow-test", timeout=5.0, workers=4),
        [feed],
        [],
        known=frozenset({httpserver.url_for("/known")}),
        now=NOW,
    )
    assert [d.uri for d in fetched.documents] == [httpserver.url_for("/a")]
    doc: RawDocument = fetched.documents[0]
    assert doc.entry is not None and doc.entry.guid == "g0" and doc.entry.title == "Story 0"
    assert [(q.uri, q.reason) for q in fetched.quarantined] == [(httpserver.url_for("/gone"), "http_404")]
    assert fetched.skipped_known == 1
    assert "/known" not in [r.path for r, _ in httpserver.log]  # stored: never refetched


def test_a_crawl_quarantines_a_dead_feed_and_goes_on(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/page").respond_with_data("<p>x</p>", content_type="text/html")
    httpserver.expect_request("/dead.xml").respond_with_data("nope", status=404)
    fetched = crawl(
        test_policy(user_agent="newsflow-test", timeout=5.0, workers=2),
        [Source("feed", httpserver.url_for("/dead.xml"))],
        [Source("page", httpserver.url_for("/page"))],
        now=NOW,
    )
    assert [d.uri for d in fetched.documents] == [httpserver.url_for("/page")]
    assert [(q.stage, q.reason) for q in fetched.quarantined] == [("fetch", "http_404")]


def test_the_chunks_of_a_run_share_its_fetcher_and_read_seed_files_too(
    httpserver: HTTPServer, seed_dir: Path
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
    for path in ("/a", "/b", "/c"):
        httpserver.expect_request(path).respond_with_data(f"<p>{path}</p>", content_type="text/html")
    httpserver.expect_request("/feed.xml").respond_with_data(
        _rss(httpserver, ["/a", "/b", "/private", "/c"]), content_type="application/rss+xml"
    )
    policy = test_policy(
        user_agent="newsflow-test",
        timeout=5.0,
        host_min_interval=0,
        allow_hosts=parse_allow_hosts(LOCAL),
        retry_base_delay=0.01,
        obey_robots=True,
        workers=2,
    )
    files = list_folder(seed_dir, Source("seeds", str(seed_dir)))
    plan = SourcePlan(None, [Source("feed", httpserver.url_for("/feed.xml"))], [])
    with fetch_session(policy) as fetcher:
        listing = list_web.fn(fetcher, plan, Opened(frozenset(), {}, []), NOW)
        got = [fetch_chunk.fn(fetcher, chunk, NOW) for chunk in chunks([*files, *listing.jobs], 3)]
    assert [len(f.documents) + len(f.quarantined) for f in got] == [3, 3, 3]
    assert [d.uri for f in got for d in f.documents] == [
        *(f"seeds/{p.name}" for p in sorted(seed_dir.glob("*.txt"))),
        httpserver.url_for("/a"),
        httpserver.url_for("/b"),
        httpserver.url_for("/c"),
    ]
    assert [q.reason for f in got for q in f.quarantined] == ["robots_disallowed"]
    # One robots.txt for the feed and every chunk: the host's rules and pace are the run's.
    assert [r.path for r, _ in httpserver.log].count("/robots.txt") == 1
    assert fetcher.client.is_closed
