"""The fetcher's sockets: connections only to checked public addresses, every read under a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from tasks.fetch.addresses import Resolver, checked_addresses

# The request being served in this thread must finish by this time.monotonic() value.
_deadline: ContextVar[float | None] = ContextVar("newsflow_deadline", default=None)
_CAUSE = "_newsflow_cause"


class DeadlineExceeded(httpcore.TimeoutException):
    """The request's total wall-clock budget ran out."""


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
