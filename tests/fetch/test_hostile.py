"""Hostile servers and documents: every fetch ends in time, bounded, set aside with a reason."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tasks.clean import decode_text
from tasks.decode import decode
from tasks.fetch.faults import FetchError
from tasks.fetch.feedhealth import FeedHealth
from tasks.fetch.feeds import FeedRejected, parse_feed
from tasks.fetch.files import read_folder
from tasks.fetch.http import FetchPolicy, Response, guarded_client
from tasks.fetch.pages import PAGE_TYPES
from tasks.fetch.polite import Fetcher
from tasks.records import Source
from tests.conftest import FIXTURES
from tests.fetch.conftest import Crawl, crawl, test_policy

HOSTILE = FIXTURES / "hostile"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CAP = 100_000  # the tests' body cap, bytes
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


Handler = Callable[[socket.socket, Request], None]


class HostileServer:
    """A raw HTTP/1.1 server on one loopback address that misbehaves on purpose."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.routes: dict[str, Handler] = {"/robots.txt": respond(404)}
        self.log: list[Request] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.log]

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)  # bounds every handler, hangs included
        with conn:
            try:
                if self.tls:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                lines = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
                fields = (line.partition(":") for line in lines[1:])
                request = Request(
                    lines[0].split(" ")[1], {k.strip().lower(): v.strip() for k, _, v in fields}
                )
                self.log.append(request)
                self.routes.get(request.path, respond(404))(conn, request)
            except OSError:
                pass  # the client gave up, which is what most cases are about


def send(conn: socket.socket, status: int, body: bytes = b"", **headers: str) -> None:
    head = {"Content-Type": "text/html", "Content-Length": str(len(body)), "Connection": "close"} | {
        k.replace("_", "-"): v for k, v in headers.items()
    }
    lines = [f"HTTP/1.1 {status} Hostile"] + [f"{k}: {v}" for k, v in head.items() if v]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def respond(status: int, body: bytes = b"", **headers: str) -> Handler:
    return lambda conn, request: send(conn, status, body, **headers)


def redirect(location: str) -> Handler:
    return respond(302, Location=location)


def hang(conn: socket.socket, request: Request) -> None:
    conn.recv(1)  # until the client hangs up (or 5 s)


def trickle_body(conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 200\r\n\r\n")
    for _ in range(200):
        conn.sendall(b"a")
        time.sleep(0.3)


def trickle_head(conn: socket.socket, request: Request) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 200:
        conn.sendall(bytes([byte]))
        time.sleep(0.3)


def reset(conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000\r\n\r\n")
    conn.sendall(b"<p>" + b"a" * 1000)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST


def endless(declared: bool) -> Handler:
    def handler(conn: socket.socket, request: Request) -> None:
        length = "Content-Length: 10000000\r\n" if declared else ""
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{length}Connection: close\r\n\r\n".encode()
        )
        for _ in range(160):  # 10 MB at most
            conn.sendall(b"a" * 65536)

    return handler


def bomb(wbits: int, size: int = 20 << 20) -> bytes:
    """Return size bytes of 'a' compressed (about a thousandth of that)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"a" * (1 << 20)
    return b"".join([packer.compress(block) for _ in range(size >> 20)] + [packer.flush()])


GZIP_BOMB = bomb(31)
DEFLATE_BOMB = bomb(-15)  # raw deflate, as many servers send 'deflate'


def policy(server: HostileServer, **changes: object) -> FetchPolicy:
    return port_policy(server.port, **changes)


def port_policy(port: int, **changes: object) -> FetchPolicy:
    """The hostile tests' policy: short timeouts, one try, loopback on this port allowed."""
    return test_policy(
        **{
            "user_agent": "newsflow-test/1.0",
            "timeout": 0.5,
            "deadline": 1.0,
            "max_bytes": CAP,
            "allow_hosts": frozenset({("127.0.0.1", port)}),
            "host_min_interval": 0,
            "host_concurrency": 4,
            "retry_after_cap": 2.0,
            "attempts": 1,
            "retry_base_delay": 0.01,
            "robots_max_bytes": 64 * 1024,
            "obey_robots": True,
            "max_entries": 50,
            "workers": 4,
            **changes,
        }
    )


def fetch(server: HostileServer, path: str, **changes: object) -> tuple[Response | FetchError, float]:
    rules = policy(server, **changes)
    start = time.monotonic()
    with guarded_client(rules) as client:
        try:
            result: Response | FetchError = Fetcher(client, rules).fetch(server.url(path), accept=PAGE_TYPES)
        except FetchError as exc:
            result = exc
    return result, time.monotonic() - start


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    yield hostile
    hostile.close()


def _reason(result: Response | FetchError) -> str:
    return result.reason if isinstance(result, FetchError) else f"ok {result.status}"


CASES: list[tuple[str, Callable[[HostileServer], Handler], str]] = [
    # accepts, never answers: the read timeout ends it
    ("/hang", lambda s: hang, "timeout"),
    # a body byte every 0.3 s: every read is quick, only the total deadline ends it
    ("/trickle", lambda s: trickle_body, "deadline_exceeded"),
    # the status line and headers a byte at a time, before httpx hands back any response
    ("/trickle-head", lambda s: trickle_head, "deadline_exceeded"),
    # connection reset half-way through the body
    ("/reset", lambda s: reset, "network_error"),
    # 20 MB in 20 KB of gzip: the decoded size is capped, not the wire size
    ("/gzip-bomb", lambda s: respond(200, GZIP_BOMB, Content_Encoding="gzip"), "too_large"),
    ("/deflate-bomb", lambda s: respond(200, DEFLATE_BOMB, Content_Encoding="deflate"), "too_large"),
    # 10 MB announced in Content-Length: refused before reading
    ("/big-declared", lambda s: endless(declared=True), "too_large"),
    # 10 MB until the connection closes, no length: cut at the cap
    ("/big-undeclared", lambda s: endless(declared=False), "too_large"),
    # PNG bytes labelled text/html
    ("/binary-as-html", lambda s: respond(200, PNG), "binary_content"),
    # a PDF where a page was expected
    ("/pdf", lambda s: respond(200, b"%PDF-1.4", Content_Type="application/pdf"), "unsupported_content_type"),
    # an encoding never asked for
    ("/brotli", lambda s: respond(200, b"\x8b\x03\x80", Content_Encoding="br"), "unsupported_encoding"),
    # garbage claiming to be gzip
    (
        "/bad-gzip",
        lambda s: respond(200, b"\x1f\x8b\x08\x00garbage", Content_Encoding="gzip"),
        "decoding_error",
    ),
    # /loop-a -> /loop-b -> /loop-a
    ("/loop-a", lambda s: redirect(s.url("/loop-b")), "redirect_loop"),
    # six hops: one more than allowed
    ("/chain-0", lambda s: redirect("/chain-1"), "too_many_redirects"),
    # a redirect out of HTTP
    ("/to-file", lambda s: redirect("file:///etc/passwd"), "forbidden_url"),
    # a redirect carrying credentials
    ("/to-userinfo", lambda s: redirect(f"http://admin:x@127.0.0.1:{s.port}/ok"), "forbidden_url"),
    # a redirect to cloud metadata, plainly and as one decimal number
    ("/to-metadata", lambda s: redirect("http://169.254.169.254/latest/meta-data/"), "blocked_address"),
    ("/to-metadata-decimal", lambda s: redirect("http://2852039166/latest/"), "blocked_address"),
    # 503 forever: transient, retried, then set aside for the next run
    ("/unavailable", lambda s: respond(503), "http_503"),
    ("/gone", lambda s: respond(404), "http_404"),
    # Retry-After far beyond the cap, in seconds and as an HTTP date
    ("/slow-down", lambda s: respond(429, Retry_After="3600"), "retry_later"),
    (
        "/maintenance",
        lambda s: respond(
            503, Retry_After=format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
        ),
        "retry_later",
    ),
]


@pytest.mark.parametrize(("path", "route", "reason"), CASES, ids=[c[0] for c in CASES])
def test_hostile_responses_end_in_time_with_a_reason(
    server: HostileServer, path: str, route: Callable[[HostileServer], Handler], reason: str
) -> None:
    server.routes[path] = route(server)
    server.routes["/loop-b"] = redirect(server.url("/loop-a"))
    for hop in range(1, 7):
        server.routes[f"/chain-{hop}"] = redirect(f"/chain-{hop + 1}")
    result, seconds = fetch(server, path)
    assert _reason(result) == reason
    assert seconds < 2.5
    assert "/ok" not in server.paths()


def test_five_redirects_are_followed(server: HostileServer) -> None:
    for hop in range(5):
        server.routes[f"/chain-{hop}"] = redirect(f"/chain-{hop + 1}")
    server.routes["/chain-5"] = respond(200, b"<p>end</p>")
    result, _ = fetch(server, "/chain-0")
    assert isinstance(result, Response) and result.url == server.url("/chain-5")


def test_a_bomb_never_costs_more_memory_than_the_cap(server: HostileServer) -> None:
    server.routes["/gzip-bomb"] = respond(200, GZIP_BOMB, Content_Encoding="gzip")
    tracemalloc.start()
    try:
        result, _ = fetch(server, "/gzip-bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _reason(result) == "too_large"
    assert peak < 4 * 1024 * 1024  # decoding it all at once would take 20 MB


@pytest.mark.parametrize("host", ["127.0.0.2", "::1"])
def test_redirect_from_an_allowed_host_to_another_loopback_is_blocked(
    server: HostileServer, host: str
) -> None:
    other = HostileServer(host)
    try:
        other.routes["/secret"] = respond(200, b"<p>internal</p>")
        server.routes["/jump"] = redirect(other.url("/secret"))
        result, _ = fetch(server, "/jump")
        assert _reason(result) == "blocked_address"
        assert other.log == []  # not even a connection reached it
        # listed, the same hop goes through: the test can tell the guard from a broken server
        allowed = policy(server).allow_hosts | {(host, other.port)}
        result, _ = fetch(server, "/jump", allow_hosts=allowed)
        assert _reason(result) == "ok 200" and other.paths() == ["/robots.txt", "/secret"]
    finally:
        other.close()


@pytest.mark.parametrize(
    ("header", "waited"),
    [
        ("1", 0.9),  # seconds
        (None, 0.9),  # an HTTP date about two seconds ahead (filled in below)
    ],
)
def test_retry_after_within_the_cap_is_waited_for(
    server: HostileServer, header: str | None, waited: float
) -> None:
    answers = iter([429, 200])

    def flaky(conn: socket.socket, request: Request) -> None:
        value = header or format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
        send(conn, next(answers), b"<p>ok</p>", Retry_After=value)

    server.routes["/flaky"] = flaky
    result, seconds = fetch(server, "/flaky", attempts=2, retry_after_cap=3.0)
    assert _reason(result) == "ok 200"
    assert waited <= seconds < 3.5
    assert server.paths() == ["/robots.txt", "/flaky", "/flaky"]


@pytest.mark.parametrize(
    ("status", "hits"),
    [
        (503, 3),  # transient: three tries in all
        (404, 1),  # permanent: asked once
    ],
)
def test_retries_are_bounded_and_only_for_transient_faults(
    server: HostileServer, status: int, hits: int
) -> None:
    server.routes["/x"] = respond(status)
    result, _ = fetch(server, "/x", attempts=3)
    assert _reason(result) == f"http_{status}"
    assert server.paths().count("/x") == hits


ROBOTS_PADDING = b"# " + b"padding " * 60 + b"\n"


@pytest.mark.parametrize(
    ("robots", "path", "reason"),
    [
        # a disallowed path is never requested
        (
            respond(200, (HOSTILE / "robots-disallow.txt").read_bytes(), Content_Type="text/plain"),
            "/private/page",
            "robots_disallowed",
        ),
        (
            respond(200, (HOSTILE / "robots-disallow.txt").read_bytes(), Content_Type="text/plain"),
            "/public/page",
            "ok 200",
        ),
        # no robots.txt: everything allowed
        (respond(404), "/private/page", "ok 200"),
        # robots.txt erroring: come back next run, fetch nothing now
        (respond(500), "/public/page", "robots_unavailable"),
        (hang, "/public/page", "robots_unavailable"),
        # 2 MB robots.txt: only the first 64 KiB count, and the download stops there
        (
            respond(
                200,
                b"User-agent: *\nDisallow: /private/\n" + ROBOTS_PADDING * 4000 + b"Disallow: /public/\n",
                Content_Type="text/plain",
            ),
            "/public/page",
            "ok 200",
        ),
        (
            respond(
                200,
                b"User-agent: *\nDisallow: /private/\n" + ROBOTS_PADDING * 4000,
                Content_Type="text/plain",
            ),
            "/private/page",
            "robots_disallowed",
        ),
    ],
)
def test_robots_txt(server: HostileServer, robots: Handler, path: str, reason: str) -> None:
    server.routes["/robots.txt"] = robots
    server.routes[path] = respond(200, b"<p>page</p>")
    result, seconds = fetch(server, path)
    assert _reason(result) == reason and seconds < 2.5
    assert (path in server.paths()) == (reason == "ok 200")


def test_robots_txt_is_read_once_per_host(server: HostileServer) -> None:
    server.routes["/robots.txt"] = respond(500)
    rules = policy(server)
    with guarded_client(rules) as client:
        fetcher = Fetcher(client, rules)
        for path in ("/a", "/b", "/c"):
            with pytest.raises(FetchError):
                fetcher.fetch(server.url(path))
    assert server.paths() == ["/robots.txt"]


@pytest.mark.parametrize(
    "fixture",
    [
        "billion-laughs.rss",  # nested entities: 10^9 'lol's if expanded
        "billion-laughs-utf16.rss",  # the same in UTF-16, invisible to a bytes search
        "entity-20000-references.rss",  # one 1 KB entity used 20,000 times: 20 MB
        "external-entity.rss",  # SYSTEM entity naming a local file
        "dtd-after-long-comment.rss",  # the DTD after 100 KB of comment
    ],
)
def test_entity_feeds_are_refused_fast_and_small(fixture: str) -> None:
    body = (HOSTILE / fixture).read_bytes()
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(FeedRejected) as info:
            parse_feed(body, "http://feeds.example/f.xml")
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.reason == "entity_declaration"
    assert seconds < 0.5 and peak < 4 * len(body) + 1_000_000


def _rss(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{link}</link></item>" for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    ).encode()


def _run(
    server: HostileServer,
    feeds: list[str],
    pages: tuple[str, ...] = (),
    health: dict[str, FeedHealth] | None = None,
    now: datetime = NOW,
    known: frozenset[str] = frozenset(),
) -> Crawl:
    return crawl(
        policy(server),
        [Source("feed", server.url(f)) for f in feeds],
        [Source("page", server.url(p)) for p in pages],
        known=known,
        now=now,
        health=health,
    )


def test_a_feed_answering_304_costs_nothing_the_second_time(server: HostileServer) -> None:
    def feed(conn: socket.socket, request: Request) -> None:
        if request.headers.get("if-none-match") == '"v1"':
            send(conn, 304, ETag='"v1"')
        else:
            send(conn, 200, _rss(["/story"]), Content_Type="application/rss+xml", ETag='"v1"')

    server.routes["/feed.xml"] = feed
    server.routes["/story"] = respond(200, b"<p>story</p>")
    first = _run(server, ["/feed.xml"])
    assert [d.uri for d in first.documents] == [server.url("/story")]
    second = _run(
        server, ["/feed.xml"], health={h.feed_uri: h for h in first.feed_health}, now=NOW + timedelta(hours=1)
    )
    assert second.documents == [] and second.quarantined == [] and second.feeds_unchanged == 1
    assert server.paths().count("/story") == 1
    assert [r.headers.get("if-none-match") for r in server.log if r.path == "/feed.xml"] == [None, '"v1"']
    # a day later the validators are not trusted: the feed is asked for in full
    _run(
        server,
        ["/feed.xml"],
        health={h.feed_uri: h for h in second.feed_health},
        now=NOW + timedelta(hours=25),
    )
    assert "if-none-match" not in [r for r in server.log if r.path == "/feed.xml"][-1].headers


def test_an_unchanged_feed_body_is_not_parsed_again(server: HostileServer) -> None:
    server.routes["/feed.xml"] = respond(200, _rss(["/story"]), Content_Type="text/xml")
    server.routes["/story"] = respond(200, b"<p>story</p>")
    first = _run(server, ["/feed.xml"])
    second = _run(server, ["/feed.xml"], health={h.feed_uri: h for h in first.feed_health})
    assert second.feeds_unchanged == 1 and second.documents == []
    assert server.paths().count("/story") == 1  # not refetched, though nothing said it is known


def test_a_failing_feed_is_backed_off(server: HostileServer) -> None:
    server.routes["/feed.xml"] = respond(503)
    first = _run(server, ["/feed.xml"])
    [state] = first.feed_health
    assert state.consecutive_failures == 1 and state.last_error.startswith("http_503")
    assert [q.reason for q in first.quarantined] == ["http_503"]
    asked = server.paths().count("/feed.xml")
    second = _run(server, ["/feed.xml"], health={state.feed_uri: state}, now=NOW + timedelta(minutes=5))
    assert second.feeds_deferred == 1 and second.quarantined == []
    assert server.paths().count("/feed.xml") == asked  # not asked while backed off


def test_pages_that_must_wait_are_deferred_with_their_feed_entry(server: HostileServer) -> None:
    server.routes["/feed.xml"] = respond(200, _rss(["/later"]), Content_Type="text/xml", ETag='"v1"')
    server.routes["/later"] = respond(429, Retry_After="3600")
    fetched = _run(server, ["/feed.xml"])
    assert fetched.quarantined == []  # waiting is not failing
    [waiting] = fetched.deferred
    assert waiting.entry is not None
    assert (waiting.uri, waiting.reason, waiting.entry.title) == (
        server.url("/later"),
        "retry_later",
        "Story 0",
    )


def test_relative_links_resolve_against_the_feed_url_after_redirects(
    server: HostileServer,
) -> None:
    server.routes["/old-feed"] = respond(301, Location="/feeds/new.xml")
    server.routes["/feeds/new.xml"] = respond(200, _rss(["story.html"]), Content_Type="text/xml")
    server.routes["/feeds/story.html"] = respond(200, b"<p>story</p>")
    fetched = _run(server, ["/old-feed"])
    assert [d.uri for d in fetched.documents] == [server.url("/feeds/story.html")]


def test_hostile_feeds_and_pages_in_one_run(server: HostileServer) -> None:
    for name in ("billion-laughs.rss", "external-entity.rss"):
        server.routes[f"/{name}"] = respond(
            200, (HOSTILE / name).read_bytes(), Content_Type="application/rss+xml"
        )
    server.routes["/nolink.xml"] = respond(
        200,
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        b'<title>No link</title><guid isPermaLink="false">g1</guid></item></channel></rss>',
        Content_Type="text/xml",
    )
    server.routes["/good"] = respond(200, b"<p>fine</p>")
    server.routes["/trickle"] = trickle_body
    server.routes["/binary"] = respond(200, PNG)
    server.routes["/mislabelled"] = respond(
        200,
        b'<meta charset="windows-1252"><p>caf\xe9 \x93ok\x94</p>',
        Content_Type="text/html; charset=utf-8",
    )
    fetched = _run(
        server,
        ["/billion-laughs.rss", "/external-entity.rss", "/nolink.xml"],
        ("/good", "/trickle", "/binary", "/mislabelled"),
    )
    reasons = sorted((q.uri.rsplit("/", 1)[-1], q.reason) for q in fetched.quarantined)
    assert reasons == [
        ("billion-laughs.rss", "entity_declaration"),
        ("binary", "binary_content"),
        ("external-entity.rss", "entity_declaration"),
        ("g1", "no_link"),
    ]
    # a page that timed out may answer next run: it waits instead of being set aside
    assert [(d.uri.rsplit("/", 1)[-1], d.reason) for d in fetched.deferred] == [
        ("trickle", "deadline_exceeded")
    ]
    decoded = {d.uri.rsplit("/", 1)[-1]: decode(d.body, d.charset) for d in fetched.documents}
    assert [(d.encoding, d.source) for d in decoded.values()] == [("utf-8", "default"), ("cp1252", "meta")]
    assert "café “ok”" in decoded["mislabelled"].text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Caf\xe9 \u201cquoted\u201d \u2013 na\xefve", "cp1252"),  # smart quotes in 0x80-0x9f
        ("Stra\xdfe, M\xfcller, \xe0 la carte", "latin-1"),
        ("\u041f\u0440\u0438\u0432\u0435\u0442", "utf-16"),  # with its BOM
    ],
)
def test_non_utf8_files_decode_in_the_clean_stage(tmp_path: Path, text: str, encoding: str) -> None:
    (tmp_path / "a.txt").write_bytes(f"{text}\n".encode(encoding))
    [doc], bad = read_folder(tmp_path, Source("seeds", str(tmp_path)), now=NOW, max_bytes=CAP)
    assert bad == [] and decode_text(doc.body, doc.charset).strip() == text


def test_odd_files_are_read_or_set_aside(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "-rf.txt").write_text("A file named like an option is still an article.\n")
    (drop / "two\nlines.txt").write_text("A newline in the name.\n")
    with open(os.fsencode(drop) + b"/caf\xe9.txt", "wb") as handle:  # latin-1 byte in the name
        handle.write(b"Non-UTF-8 name.\n")
    (drop / "manual.txt").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    os.symlink(drop / "missing.txt", drop / "dangling.txt")
    os.mkfifo(drop / "pipe.txt")  # reading it would block the run for ever
    done: list[tuple[list, list]] = []
    worker = threading.Thread(
        target=lambda: done.append(read_folder(drop, Source("seeds", str(drop)), now=NOW, max_bytes=CAP)),
        daemon=True,
    )
    worker.start()
    worker.join(5)
    assert done, "read_folder blocked"
    docs, bad = done[0]
    assert [d.uri for d in docs] == ["drop/-rf.txt"]
    assert sorted((q.uri, q.reason) for q in bad) == [
        ("drop/caf\\xe9.txt", "bad_file_name"),
        ("drop/dangling.txt", "unreadable"),
        ("drop/manual.txt", "binary"),
        ("drop/pipe.txt", "not_a_file"),
        ("drop/two\\x0alines.txt", "bad_file_name"),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files; see dangling links")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    _, bad = read_folder(tmp_path, Source("seeds", str(tmp_path)), now=NOW, max_bytes=CAP)
    assert [q.reason for q in bad] == ["unreadable"]
