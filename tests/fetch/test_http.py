"""The fetch layer's pure parts: address guard, sniffing, Retry-After, feed health, host pacing."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta

import duckdb
import httpcore
import httpx
import pytest
from pytest_httpserver import HTTPServer

import warehouse
from tasks.fetch.addresses import BlockedAddress, check_url, checked_addresses, parse_allow_hosts
from tasks.fetch.faults import TransientFetchError, fault
from tasks.fetch.feedhealth import FeedHealth, read_feed_health, write_feed_health
from tasks.fetch.http import Response, retry_after_seconds
from tasks.fetch.netguard import DeadlineExceeded, GuardedTransport
from tasks.fetch.polite import HostGate

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NOTHING = frozenset[tuple[str, int | None]]()


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),  # decimal spelling of 127.0.0.1
        ("0x7f000001", "loopback"),  # hexadecimal spelling
        ("127.1", "loopback"),  # short form: 127.0.0.1
        ("0177.0.0.1", "loopback"),  # octal first byte
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:7f00:1", "loopback"),  # the same, in hex groups
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("169.254.169.254", "metadata"),  # cloud instance metadata
        ("2852039166", "metadata"),  # the metadata address as one decimal number
        ("fd00:ec2::254", "metadata"),  # AWS metadata over IPv6
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),  # 0.0.0.0 in one digit
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),  # unique local
        ("64:ff9b:1::1", "private"),  # local-use NAT64
        ("100.64.0.1", "not_global"),  # carrier-grade NAT
        ("224.0.0.1", "multicast"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnel"),  # Teredo hides its client
    ],
)
def test_guard_refuses_private_addresses_in_every_spelling(host: str, problem: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        checked_addresses(host, 80, NOTHING)
    assert info.value.detail.endswith(f"({problem})")


@pytest.mark.parametrize("host", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_guard_passes_public_addresses(host: str) -> None:
    assert checked_addresses(host, 443, NOTHING) == [host]


@pytest.mark.parametrize(
    ("allow", "host", "port", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1", 8080, True),  # a host entry allows every port
        ("127.0.0.1:8080", "127.0.0.1", 8080, True),
        ("127.0.0.1:8080", "127.0.0.1", 8081, False),  # host:port allows that port only
        ("127.0.0.1", "127.0.0.2", 80, False),  # its neighbour is not listed
        ("localhost", "localhost", 5000, True),
        ("[::1]:9000", "::1", 9000, True),
        ("LocalHost.", "localhost", 1, True),  # case and a trailing dot do not matter
        ("intranet.example, , 10.0.0.5", "10.0.0.5", 1, True),  # blanks are skipped
    ],
)
def test_allow_list(allow: str, host: str, port: int, allowed: bool) -> None:
    entries = parse_allow_hosts(allow)
    if allowed:
        assert checked_addresses(host, port, entries)
    else:
        with pytest.raises(BlockedAddress):
            checked_addresses(host, port, entries)


def test_one_private_answer_blocks_a_name() -> None:
    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(0, 0, 0, "", ("93.184.215.14", port)), (0, 0, 0, "", ("10.0.0.7", port))]

    with pytest.raises(BlockedAddress):
        checked_addresses("mixed.example", 80, NOTHING, resolve)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "forbidden_url"),
        ("ftp://example.com/feed.xml", "forbidden_url"),
        ("gopher://example.com:70/", "forbidden_url"),
        ("http://user:secret@example.com/", "forbidden_url"),  # credentials would be sent
        ("http:///path-only", "invalid_url"),
        ("http://example.com/" + "a" * 2030, "url_too_long"),  # 2,049 characters
    ],
)
def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        check_url(url)
    assert info.value.reason == reason


def test_a_url_of_2048_characters_passes() -> None:
    url = "http://example.com/" + "a" * 2029
    assert len(str(check_url(url))) == 2048


def _caused(*chain: BaseException) -> BaseException:
    """The first exception, caused by the next, and so on: as httpx and httpcore raise them."""
    for outer, inner in zip(chain, chain[1:], strict=False):
        outer.__cause__ = inner
    return chain[0]


def _cert_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    return error


@pytest.mark.parametrize(
    ("exc", "reason", "transient"),
    [
        # what the guard refuses keeps its own reason
        (BlockedAddress("blocked_address", "x resolves to 10.0.0.1 (private)"), "blocked_address", False),
        (BlockedAddress("url_too_long", "3000 characters > 2048"), "url_too_long", False),
        # no such name: permanent; the resolver failing for now: transient
        (
            _caused(
                httpx.ConnectError("x"), httpcore.ConnectError("x"), socket.gaierror(socket.EAI_NONAME, "")
            ),
            "dns_error",
            False,
        ),
        (
            _caused(
                httpx.ConnectError("x"), httpcore.ConnectError("x"), socket.gaierror(socket.EAI_AGAIN, "")
            ),
            "dns_unavailable",
            True,
        ),
        # the port refuses, or the route fails
        (
            _caused(httpx.ConnectError("x"), httpcore.ConnectError("x"), ConnectionRefusedError()),
            "connect_refused",
            True,
        ),
        (
            _caused(httpx.ConnectError("x"), httpcore.ConnectError("x"), OSError(113, "No route")),
            "connect_error",
            True,
        ),
        # the certificate is refused: permanent, never retried without verification
        (_caused(httpx.ConnectError("x"), httpcore.ConnectError("x"), _cert_error()), "tls_error", False),
        (_caused(httpx.ConnectError("x"), ssl.SSLError(1, "wrong version number")), "tls_error", False),
        # the peer hung up in the handshake: transient
        (_caused(httpx.ConnectError("x"), ssl.SSLEOFError(8, "EOF")), "connect_error", True),
        # a TLS error after the connection is up is the network's, not the certificate's
        (_caused(httpx.ReadError("x"), ssl.SSLError(1, "bad record mac")), "network_error", True),
        # time: before a connection (the host's), the request's deadline, one read
        (httpx.ConnectTimeout("x"), "connect_timeout", True),
        (
            _caused(httpx.ConnectTimeout("x"), httpcore.ConnectTimeout("x"), DeadlineExceeded("x")),
            "connect_timeout",
            True,
        ),
        (_caused(httpx.ReadTimeout("x"), DeadlineExceeded("x")), "deadline_exceeded", True),
        (httpx.ReadTimeout("x"), "timeout", True),
        (httpx.WriteTimeout("x"), "timeout", True),
        # what is no URL
        (httpx.InvalidURL("Invalid IPv4 address: '0177.0.0.1'"), "invalid_url", False),
        (httpx.UnsupportedProtocol("x"), "invalid_url", False),
        # the connection broke in the middle: transient
        (_caused(httpx.ReadError("x"), ConnectionResetError()), "network_error", True),
        (httpx.RemoteProtocolError("x"), "network_error", True),
    ],
)
def test_fault_names_the_cause(exc: BaseException, reason: str, transient: bool) -> None:
    error = fault(exc, "http://news.example/a")
    assert (error.reason, isinstance(error, TransientFetchError)) == (reason, transient)


def test_connection_goes_to_the_checked_address_with_the_name_in_host(
    httpserver: HTTPServer,
) -> None:
    # DNS is asked once; the socket connects to that answer while Host keeps the name.
    calls: list[str] = []

    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    httpserver.expect_request("/").respond_with_data("ok")
    url = f"http://news.example:{httpserver.port}/"
    allowed = parse_allow_hosts(f"news.example:{httpserver.port}")
    with httpx.Client(transport=GuardedTransport(allowed, resolve=resolve)) as client:
        assert client.get(url).text == "ok"
    with (
        httpx.Client(transport=GuardedTransport(NOTHING, resolve=resolve)) as client,
        pytest.raises(BlockedAddress),
    ):
        client.get(url)
    assert calls == ["news.example", "news.example"]
    [(request, _)] = httpserver.log
    assert request.headers["Host"] == f"news.example:{httpserver.port}"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Sun, 22 Nov 2026 12:01:30 GMT", 90.0),  # HTTP date, 90 s after NOW
        ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),  # a date in the past: go now
        ("soon", None),  # unparseable: as if absent
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


FEED = FeedHealth("http://feeds.example/a.xml", "s1")


@pytest.mark.parametrize(
    ("failures", "wait_minutes"),
    [
        (0, 30),  # first failure: 2 x 15 min
        (1, 60),
        (3, 240),
        (20, 24 * 60),  # capped at a day
    ],
)
def test_failing_feed_backs_off(failures: int, wait_minutes: int) -> None:
    state = FeedHealth(FEED.feed_uri, "s1", consecutive_failures=failures)
    failed = state.failed(NOW, "http_503", base=900, cap=86400)
    assert failed.consecutive_failures == failures + 1
    assert failed.next_attempt_at == NOW + timedelta(minutes=wait_minutes)
    assert not failed.due(NOW + timedelta(minutes=wait_minutes - 1))
    assert failed.due(NOW + timedelta(minutes=wait_minutes))


def test_retry_after_outlasts_the_back_off() -> None:
    failed = FEED.failed(NOW, "retry_later", base=900, cap=86400, retry_after=7200)
    assert failed.next_attempt_at == NOW + timedelta(hours=2)


def test_validators_are_sent_until_a_full_fetch_is_due() -> None:
    ok = Response(FEED.feed_uri, 200, "application/rss+xml", None, b"x", '"v1"', "Sun, 1 Nov")
    state = FEED.succeeded(NOW, ok, "hash1", unconditional=True)
    assert state.request_headers(NOW + timedelta(hours=1), timedelta(hours=24)) == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Sun, 1 Nov",
    }
    assert state.request_headers(NOW + timedelta(hours=25), timedelta(hours=24)) == {}
    # a 304 without validators keeps the ones stored
    later = state.succeeded(NOW, Response(FEED.feed_uri, 304, "", None, b""), None, False)
    assert (later.etag, later.body_hash, later.last_full_fetch_at) == ('"v1"', "hash1", NOW)


def test_feed_health_round_trips_through_duckdb() -> None:
    con = duckdb.connect(":memory:")
    warehouse.migrate(con)
    assert read_feed_health(con) == {}
    ok = FEED.succeeded(NOW, Response(FEED.feed_uri, 200, "", None, b"", '"e"', None), "h", True)
    failing = FeedHealth("http://feeds.example/b.xml", "s2").failed(NOW, "timeout: x", base=1, cap=10)
    write_feed_health(con, [ok, failing])
    write_feed_health(con, [ok])  # a re-run updates in place
    assert read_feed_health(con) == {ok.feed_uri: ok, failing.feed_uri: failing}
    assert warehouse.migrate(con) == []  # idempotent


def test_host_gate_spaces_starts_and_caps_concurrency() -> None:
    gate = HostGate(interval=0.1, concurrency=2)
    starts: list[float] = []
    busy = [0, 0]  # in flight now, most ever
    lock = threading.Lock()

    def work() -> None:
        with gate.slot("a.example"):
            with lock:
                starts.append(time.monotonic())
                busy[0] += 1
                busy[1] = max(busy[1], busy[0])
            time.sleep(0.15)
            with lock:
                busy[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert all(b - a >= 0.09 for a, b in zip(starts, starts[1:], strict=False))
    assert busy[1] <= 2
