"""Against the hostile server: faults set aside under their real cause, each URL within its
budget, feeds in every Unicode form accepted, and text decoded right whatever the label says."""

from __future__ import annotations

import codecs
import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import warehouse
from tasks.fetch.faults import FetchError
from tasks.fetch.files import read_folder
from tasks.fetch.http import http_client
from tasks.fetch.pages import PAGE_TYPES
from tasks.fetch.polite import Fetcher
from tasks.prepare import prepare_document
from tasks.records import Prepared, RawDocument, Source
from tasks.rows import write_articles
from tasks.settings import Settings
from tests.fetch.conftest import crawl
from tests.fetch.test_hostile import NOW, HostileServer, port_policy, redirect, respond, trickle_body

STORY = b"<html><body><p>story</p></body></html>"


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    yield hostile
    hostile.close()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 that no authority signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full: connections are never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    waiting = []
    for _ in range(3):  # more than the queue holds: later SYNs are dropped, not refused
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        waiting.append(client)
    time.sleep(0.1)
    yield port
    for client in waiting:
        client.close()
    listener.close()


class CountingResolver:
    """The system resolver, counting the lookups: one per connection attempt."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.calls += 1
        return socket.getaddrinfo(*args, **kwargs)


def _fetch(urls: list[str], port: int, resolve: CountingResolver, **changes: object) -> list[str]:
    """Return the reason each URL failed for, or 'ok', fetched in turn by one run's fetcher."""
    rules = port_policy(port, **changes)
    outcomes = []
    with http_client(
        user_agent=rules.user_agent, timeout=rules.timeout, allow_hosts=rules.allow_hosts, resolve=resolve
    ) as client:
        fetcher = Fetcher(client, rules)
        for url in urls:
            try:
                fetcher.fetch(url, accept=PAGE_TYPES)
                outcomes.append("ok")
            except FetchError as exc:
                outcomes.append(f"{exc.reason}: {exc.detail}")
    return outcomes


def _set_aside(
    port: int, feeds: list[str], pages: list[str] = (), **changes: object
) -> list[tuple[str, str]]:
    """Return (reason, detail) of what one run's crawl of these feeds and pages set aside."""
    listed = crawl(
        port_policy(port, **changes),
        [Source("feed", url) for url in feeds],
        [Source("page", url) for url in pages],
        now=NOW,
    )
    return [(q.reason, q.detail) for q in listed.quarantined]


# robots.txt is asked first; its failing connection is the host's fault, named as such
def test_a_feed_host_that_does_not_resolve_is_a_dns_error() -> None:
    [(reason, detail)] = _set_aside(80, ["http://feeds.newsflow.invalid/feed.xml"])
    assert reason == "dns_error" and "feeds.newsflow.invalid/robots.txt" in detail


def test_a_refused_port_is_connect_refused(closed_port: int) -> None:
    [(reason, _)] = _set_aside(closed_port, [f"http://127.0.0.1:{closed_port}/feed.xml"])
    assert reason == "connect_refused"


def test_a_host_that_never_accepts_is_connect_timeout(full_backlog: int) -> None:
    [(reason, _)] = _set_aside(full_backlog, [f"http://127.0.0.1:{full_backlog}/feed.xml"])
    assert reason == "connect_timeout"


@pytest.mark.parametrize(
    ("obey_robots", "handshakes"),
    [
        (True, 1),  # robots.txt's: the host's fault then holds for the feed and the page
        (False, 2),  # the feed's and the page's, each tried once
    ],
)
def test_an_untrusted_certificate_is_a_tls_error_never_tried_again(
    self_signed: ssl.SSLContext, obey_robots: bool, handshakes: int
) -> None:
    tls = HostileServer(tls=self_signed)
    try:
        tls.routes["/feed.xml"] = respond(200, b"<rss/>", Content_Type="application/rss+xml")
        faults = _set_aside(
            tls.port,
            [tls.url("/feed.xml")],
            [tls.url("/page")],
            attempts=3,
            obey_robots=obey_robots,
            workers=1,
        )
    finally:
        tls.close()
    assert [r for r, _ in faults] == ["tls_error", "tls_error"]
    assert all("self-signed certificate" in detail for _, detail in faults)
    # never again without verification: no request was ever sent
    assert tls.connections == handshakes and tls.log == []


def test_robots_txt_is_unavailable_only_when_the_host_answered(server: HostileServer) -> None:
    server.routes["/robots.txt"] = respond(503)
    [(reason, detail)] = _set_aside(server.port, [server.url("/feed.xml")])
    assert reason == "robots_unavailable" and "503" in detail


@pytest.mark.parametrize(
    ("obey_robots", "lookups"),
    [
        (False, 2),  # each URL's own request: no such name, asked once, not tried again
        (True, 1),  # robots.txt's request: the host's fault then holds for its other URLs
    ],
)
def test_a_name_that_does_not_exist_is_not_asked_again(obey_robots: bool, lookups: int) -> None:
    resolver = CountingResolver()
    urls = ["http://nowhere.invalid/a", "http://nowhere.invalid/b"]
    outcomes = _fetch(urls, 80, resolver, attempts=3, obey_robots=obey_robots)
    assert [o.split(":")[0] for o in outcomes] == ["dns_error", "dns_error"]
    assert resolver.calls == lookups  # one lookup per connection attempt


@pytest.mark.parametrize(
    ("obey_robots", "connections"),
    [
        (False, 6),  # transient: each of the two URLs tried three times
        (True, 3),  # robots.txt tried three times, then the host's fault holds for the run
    ],
)
def test_a_refused_connection_is_tried_again_within_the_tries(
    closed_port: int, obey_robots: bool, connections: int
) -> None:
    resolver = CountingResolver()
    urls = [f"http://127.0.0.1:{closed_port}/a", f"http://127.0.0.1:{closed_port}/b"]
    outcomes = _fetch(urls, closed_port, resolver, attempts=3, obey_robots=obey_robots)
    assert [o.split(":")[0] for o in outcomes] == ["connect_refused", "connect_refused"]
    assert resolver.calls == connections  # one lookup per connection attempt


def test_a_redirect_to_an_unparseable_host_is_invalid_url_asked_once(server: HostileServer) -> None:
    server.routes["/jump"] = redirect(f"http://0177.0.0.1:{server.port}/ok")
    [outcome] = _fetch([server.url("/jump")], server.port, CountingResolver(), attempts=3)
    assert outcome.startswith("invalid_url: ") and "0177.0.0.1" in outcome
    assert server.paths() == ["/robots.txt", "/jump"]


def test_a_url_longer_than_2048_characters_is_never_fetched(server: HostileServer) -> None:
    long_path = "/story?" + "x" * 3000
    server.routes["/feed.xml"] = respond(200, _rss([long_path, "/short"]), Content_Type="application/rss+xml")
    server.routes["/short"] = respond(200, STORY)
    listed = crawl(port_policy(server.port), [Source("feed", server.url("/feed.xml"))], [], now=NOW)
    assert [(q.uri, q.reason) for q in listed.quarantined] == [(server.url(long_path), "url_too_long")]
    assert [d.uri for d in listed.documents] == [server.url("/short")]
    assert long_path not in server.paths()


def test_one_url_is_bounded_by_its_budget_over_all_tries(server: HostileServer) -> None:
    # a body byte every 0.3 s: each try runs to the 1 s deadline; three tries would take 3 s
    server.routes["/trickle"] = trickle_body
    [outcome] = _fetch([server.url("/trickle")], server.port, CountingResolver(), attempts=3, url_budget=1.5)
    assert outcome.startswith("url_budget_exceeded: ") and "last deadline_exceeded" in outcome
    assert server.paths().count("/trickle") == 2  # the second try was cut at the budget


def _rss(links: list[str], encoding: str = "utf-8") -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{link}</link></item>" for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>Zürich</title>'
        f"{items}</channel></rss>"
    ).encode(encoding)


@pytest.mark.parametrize(
    "media_type",
    ["text/rss+xml", "text/atom+xml", "text/rdf+xml", "application/x-atom+xml", "application/rss"],
)
def test_feed_media_types_seen_in_the_wild_are_read(server: HostileServer, media_type: str) -> None:
    server.routes["/feed"] = respond(200, _rss(["/story"]), Content_Type=media_type)
    server.routes["/story"] = respond(200, STORY)
    listed = crawl(port_policy(server.port), [Source("feed", server.url("/feed"))], [], now=NOW)
    assert [d.uri for d in listed.documents] == [server.url("/story")]
    # feedparser reads a text/* type without charset as us-ascii: a recorded fault, no refusal
    assert [q.reason for q in listed.quarantined] in ([], ["bozo_feed"])


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b""),  # the XML declaration's NULs tell the encoding (XML 1.0 appendix F)
        ("utf-16-be", b""),
        ("utf-32-le", b""),
        ("utf-32-be", b""),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),  # begins with two NULs
    ],
)
def test_utf16_and_utf32_feeds_are_read(server: HostileServer, codec: str, bom: bytes) -> None:
    server.routes["/feed.xml"] = respond(
        200,
        bom + _rss(["/story"], codec.replace("-le", "le").replace("-be", "be")),
        Content_Type="application/rss+xml",
    )
    server.routes["/story"] = respond(200, STORY)
    listed = crawl(port_policy(server.port), [Source("feed", server.url("/feed.xml"))], [], now=NOW)
    assert listed.quarantined == [] and [d.uri for d in listed.documents] == [server.url("/story")]


CITIES = "Zürich, Köln, Málaga"
TITLE = "Herbst in drei Städten"
PARAGRAPHS = (
    f"{CITIES}: drei Städte, die im Herbst besonders viele Besucher anziehen. Die Hotels melden für "
    "Oktober eine Auslastung, die höher liegt als in jedem Jahr zuvor, und die Museen verlängern ihre "
    "Öffnungszeiten bis in den späten Abend.",
    "Wer {stray}nach Zürich fährt, besucht den See und die Altstadt; in Köln stehen der Dom und die "
    "Brauhäuser auf dem Programm, und in Málaga locken das Picasso-Museum und der Hafen mit seinen "
    "Restaurants. Viele Reisende verbinden zwei der drei Ziele in einer einzigen Woche.",
)


def _page(encoding: str, meta: str = "", stray: bytes = b"") -> bytes:
    """The article as an HTML page in this encoding, stray bytes put before one word."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = f"<html><head>{meta}<title>{TITLE}</title></head><body><article><h1>{TITLE}</h1>{paragraphs}"
    return _with_stray(f"{html}</article></body></html>", encoding, stray)


def _with_stray(text: str, encoding: str, stray: bytes) -> bytes:
    return text.replace("{stray}", "\x00").encode(encoding).replace("\x00".encode(encoding), stray)


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "source", "replaced"),
    [
        # windows-1252 bytes under <meta charset=utf-8> (stored as "Z�rich, K�ln" before)
        (_page("cp1252", '<meta charset="utf-8">'), "text/html", "cp1252", "detected", 0),
        # the same under an HTTP UTF-8 label
        (_page("cp1252"), "text/html; charset=utf-8", "cp1252", "detected", 0),
        # UTF-8 bytes under a <meta> latin-1 label (stored as "ZÃ¼rich, KÃ¶ln" before)
        (_page("utf-8", '<meta charset="iso-8859-1">'), "text/html", "utf-8", "detected", 0),
        # UTF-8 with one stray cp1252 byte and no label (all read as cp1252 before)
        (_page("utf-8", stray=b"\x93"), "text/html", "utf-8", "detected", 1),
        # a label the bytes agree with is kept, and says where it came from
        (_page("cp1252", '<meta charset="windows-1252">'), "text/html", "cp1252", "meta", 0),
        (_page("iso-8859-1"), "text/html; charset=ISO-8859-1", "cp1252", "http", 0),
    ],
)
def test_text_survives_a_label_the_bytes_contradict(
    server: HostileServer, body: bytes, content_type: str, encoding: str, source: str, replaced: int
) -> None:
    server.routes["/article"] = respond(200, body, Content_Type=content_type)
    listed = crawl(port_policy(server.port), [], [Source("page", server.url("/article"))], now=NOW)
    [prepared] = _prepare(listed.documents)
    article = prepared.article
    assert CITIES in article.text and "Ã" not in article.text
    assert article.text.count("\ufffd") == replaced
    assert (article.encoding, article.encoding_source, article.replaced_chars) == (encoding, source, replaced)
    assert _stored(prepared) == [(encoding, source, replaced)] * 2  # articles and raw_documents


def test_a_seed_file_that_is_utf8_but_for_one_byte_stays_utf8(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(_with_stray("\n\n".join([TITLE, *PARAGRAPHS]), "utf-8", b"\x92"))
    docs, bad = read_folder(tmp_path, Source("seeds", str(tmp_path)), now=NOW, max_bytes=1 << 20)
    [prepared] = _prepare(docs)
    assert bad == [] and CITIES in prepared.article.text
    assert (prepared.article.encoding, prepared.article.replaced_chars) == ("utf-8", 1)


def _prepare(docs: list[RawDocument]) -> list[Prepared]:
    config = Settings().prepare_config(NOW, "r1")
    done = [prepare_document(raw, frozenset(), config) for raw in docs]
    assert all(isinstance(p, Prepared) for p in done), done
    return [p for p in done if isinstance(p, Prepared)]


def _stored(prepared: Prepared) -> list[tuple[Any, ...]]:
    con = duckdb.connect(":memory:")
    warehouse.migrate(con)
    write_articles(con, warehouse.index_cursor(con), [prepared])
    columns = "encoding, encoding_source, replaced_chars"
    return con.execute(
        f"SELECT {columns} FROM articles UNION ALL SELECT {columns} FROM raw_documents"
    ).fetchall()
