"""The fetcher's sockets: connections only to checked public addresses, every read under a deadline."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
MAX_URL_LENGTH = 2048  # what browsers, CDNs and the sitemap protocol handle; longer ones are refused
# The request being served in this thread must finish by this time.monotonic() value.
_deadline: ContextVar[float | None] = ContextVar("newsflow_deadline", default=None)
_CAUSE = "_newsflow_cause"


class BlockedAddress(Exception):
    """A URL or the address it resolves to is one the fetcher must not reach."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DeadlineExceeded(httpcore.TimeoutException):
    """The request's total wall-clock budget ran out."""


def parse_allow_hosts(
    value: str | Iterable[str | tuple[str, int | None]],
) -> frozenset[tuple[str, int | None]]:
    """Return the allow-list entries as (host, port or None): 'host', 'host:port', '[v6]:port'."""
    items = value.split(",") if isinstance(value, str) else value
    entries: set[tuple[str, int | None]] = set()
    for raw in items:
        if isinstance(raw, tuple):  # already parsed
            entries.add(raw)
            continue
        item = raw.strip().lower()
        if not item:
            continue
        host, port = item, None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif item.count(":") == 1:
            host, _, text = item.partition(":")
            port = int(text)
        entries.add((host.rstrip("."), port))
    return frozenset(entries)


def address_problem(ip: IPAddress) -> str | None:
    """Return why a connection to this address is forbidden, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_problem(ip.ipv4_mapped)
        if ip in _NAT64:  # the IPv4 address sits in the last 32 bits
            return address_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _NAT64_LOCAL:
            return "private"
        if ip.sixtofour is not None:
            return address_problem(ip.sixtofour)
        if ip.teredo is not None:
            return "tunnel"  # the client address inside is obfuscated: cannot be checked
    if ip in _METADATA:
        return "metadata"
    for name in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name
    return None if ip.is_global else "not_global"


def checked_addresses(
    host: str,
    port: int,
    allow: frozenset[tuple[str, int | None]],
    resolve: Resolver = socket.getaddrinfo,
) -> list[str]:
    """Return the addresses host resolves to, or raise BlockedAddress if any is forbidden."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # a label IDNA cannot encode: no name to look up
        raise BlockedAddress("invalid_url", f"host {host!r}: {exc}") from exc
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if _allowed(host, port, allow):
        return addresses
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address))
        # One forbidden address blocks the host: DNS may answer differently next time.
        if problem and not _allowed(address, port, allow):
            raise BlockedAddress("blocked_address", f"{host} resolves to {address} ({problem})")
    return addresses


def _allowed(host: str, port: int, allow: frozenset[tuple[str, int | None]]) -> bool:
    return (host, None) in allow or (host, port) in allow


def check_url(url: str | httpx.URL) -> httpx.URL:
    """Return the URL parsed, or raise BlockedAddress for schemes other than http(s), userinfo
    or more than MAX_URL_LENGTH characters."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise BlockedAddress("invalid_url", str(exc)) from exc
    if len(str(parsed)) > MAX_URL_LENGTH:
        raise BlockedAddress("url_too_long", f"{len(str(parsed))} characters > {MAX_URL_LENGTH}")
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddress("forbidden_url", f"scheme {parsed.scheme!r} in {url}")
    if parsed.userinfo:
        raise BlockedAddress("forbidden_url", "credentials in the URL")
    if not parsed.host:
        raise BlockedAddress("invalid_url", f"no host in {url}")
    return parsed


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Give every socket operation in this block a share of one total time budget."""
    stop = time.monotonic() + seconds
    token = _deadline.set(stop)
    try:
        yield stop
    finally:
        _deadline.reset(token)


def _budget(timeout: float | None) -> float | None:
    stop = _deadline.get()
    if stop is None:
        return timeout
    left = stop - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("total deadline exceeded")
    return left if timeout is None else min(timeout, left)


@contextmanager
def _timed() -> Iterator[None]:
    """Raise a socket timeout as DeadlineExceeded when it is the request's deadline that ran out."""
    try:
        yield
    except DeadlineExceeded:
        raise
    except httpcore.TimeoutException as exc:
        stop = _deadline.get()
        if stop is not None and time.monotonic() >= stop:
            raise DeadlineExceeded(f"total deadline exceeded ({exc})") from exc
        raise


@contextmanager
def _pinned() -> Iterator[None]:
    """Keep an error's cause on it: httpcore's pool re-raises `from None`, which drops it."""
    try:
        yield
    except Exception as exc:
        if exc.__cause__ is not None:
            setattr(exc, _CAUSE, exc.__cause__)  # noqa: B010  # read back in _mapped
        raise


@contextmanager
def _connecting() -> Iterator[None]:
    """Raise every timeout before a connection (TCP or TLS) is up as ConnectTimeout: the host's."""
    try:
        yield
    except httpcore.ConnectTimeout:
        raise
    except httpcore.TimeoutException as exc:
        raise httpcore.ConnectTimeout(str(exc)) from exc


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write also respects the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _timed():
            return self._inner.read(max_bytes, _budget(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _timed():
            self._inner.write(buffer, _budget(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        with _pinned(), _connecting():
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _budget(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Resolve, check every address, then connect to a checked address, never the name."""

    def __init__(
        self, allow: frozenset[tuple[str, int | None]], resolve: Resolver = socket.getaddrinfo
    ) -> None:
        self.allow = allow
        self.resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        with _pinned():
            addresses = checked_addresses(host, port, self.allow, self.resolve)
        for address in addresses:
            try:
                with _pinned(), _connecting():
                    stream = super().connect_tcp(
                        address, port, _budget(timeout), local_address, socket_options
                    )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over httpcore with the guarded backend; proxies are never used."""

    def __init__(
        self,
        allow: frozenset[tuple[str, int | None]],
        verify: bool = True,
        resolve: Resolver = socket.getaddrinfo,
    ) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=64,
            network_backend=GuardedBackend(allow, resolve),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            resp = self._pool.handle_request(core)
        return httpx.Response(
            resp.status, headers=resp.headers, stream=_Body(resp.stream), extensions=resp.extensions
        )

    def close(self) -> None:
        self._pool.close()


class _Body(httpx.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._inner

    def close(self) -> None:
        self._inner.close()


@contextmanager
def _mapped() -> Iterator[None]:
    """Raise httpcore's errors as httpx's namesakes, as httpx's own transport does."""
    try:
        yield
    except DeadlineExceeded as exc:  # the cause keeps it apart from a plain read timeout
        raise httpx.ReadTimeout(f"deadline: {exc}") from exc
    except httpcore.UnsupportedProtocol as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
        exc.__cause__ = exc.__cause__ or getattr(exc, _CAUSE, None)  # what names the fault
        raise getattr(httpx, type(exc).__name__, httpx.TransportError)(str(exc)) from exc
