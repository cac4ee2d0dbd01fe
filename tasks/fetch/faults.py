"""What went wrong with a request: the fetch errors, and the one function that names causes."""

from __future__ import annotations

import socket
import ssl
from typing import TypeVar

import httpcore
import httpx

from tasks.fetch.addresses import BlockedAddress
from tasks.fetch.netguard import DeadlineExceeded

E = TypeVar("E", bound=BaseException)
# The host never answered: no address, no connection or no TLS session. Nothing can then be
# said of its robots.txt, and the fault is the host's, whichever request met it.
HOST_FAULTS = frozenset(
    {"dns_error", "dns_unavailable", "connect_refused", "connect_error", "connect_timeout", "tls_error"}
)
_NO_SUCH_NAME = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})


class FetchError(Exception):
    """A document could not be fetched; reason is a short code for the quarantine."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class TransientFetchError(FetchError):
    """A fetch failed in a way that may succeed later (timeouts, 5xx, 429)."""


class RetryLater(FetchError):
    """The server or its robots.txt asks us back later than this run can wait."""


def fault(exc: BaseException, url: str) -> FetchError:
    """Return the fetch error that an exception of a request to url stands for.

    The one place that names causes: the innermost exception of the chain decides, since
    httpx and httpcore wrap the socket's and the resolver's errors.
    """
    chain = _chain(exc)
    connecting = any(isinstance(c, (httpx.ConnectError, httpcore.ConnectError)) for c in chain)
    if blocked := _find(chain, BlockedAddress):
        return FetchError(blocked.reason, blocked.detail)
    if invalid := _find(chain, httpx.InvalidURL) or _find(chain, httpx.UnsupportedProtocol):
        return FetchError("invalid_url", f"{url}: {invalid}")
    if dns := _find(chain, socket.gaierror):
        if dns.errno in _NO_SUCH_NAME:  # the name does not exist: asking again will not help
            return FetchError("dns_error", f"{url}: {dns.strerror or dns}")
        return TransientFetchError("dns_unavailable", f"{url}: {dns.strerror or dns}")
    if refused := _find(chain, ssl.SSLCertVerificationError):
        return FetchError("tls_error", f"{url}: {refused.verify_message or refused}")
    if tls := _find(chain, ssl.SSLError) if connecting else None:
        if isinstance(tls, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):  # the peer hung up
            return TransientFetchError("connect_error", f"{url}: closed during the TLS handshake")
        return FetchError("tls_error", f"{url}: {getattr(tls, 'reason', None) or tls}")
    if _find(chain, httpx.ConnectTimeout) or _find(chain, httpcore.ConnectTimeout):
        return TransientFetchError("connect_timeout", url)
    if _find(chain, DeadlineExceeded):
        return TransientFetchError("deadline_exceeded", url)
    if _find(chain, httpx.TimeoutException) or _find(chain, httpcore.TimeoutException):
        return TransientFetchError("timeout", f"{type(exc).__name__} {url}")
    if _find(chain, ConnectionRefusedError):
        return TransientFetchError("connect_refused", url)
    if connecting:
        return TransientFetchError("connect_error", f"{url}: {chain[-1]}")
    if _find(chain, httpx.DecodingError):
        return FetchError("decoding_error", f"{url}: {exc}")
    return TransientFetchError("network_error", f"{type(exc).__name__}: {exc}")


def _find(chain: list[BaseException], kind: type[E]) -> E | None:
    return next((c for c in chain if isinstance(c, kind)), None)


def _chain(exc: BaseException) -> list[BaseException]:
    """Return the exception and its causes as a traceback shows them, outermost first."""
    chain = [exc]
    while True:
        last = chain[-1]
        cause = last.__cause__ or (None if last.__suppress_context__ else last.__context__)
        if cause is None or cause in chain:
            return chain
        chain.append(cause)
