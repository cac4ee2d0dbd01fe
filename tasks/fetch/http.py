"""One HTTP GET for feeds, pages and robots.txt: guarded, capped, under a deadline, hop by hop."""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from tasks.decode import content_type, looks_binary
from tasks.fetch.addresses import BlockedAddress, Resolver, check_url, parse_allow_hosts
from tasks.fetch.faults import FetchError, TransientFetchError, fault
from tasks.fetch.netguard import GuardedTransport, deadline_scope

REDIRECTS = (301, 302, 303, 307, 308)
CODINGS = {"": 0, "identity": 0, "gzip": 31, "x-gzip": 31, "deflate": 15}  # zlib wbits
CHUNK = 64 * 1024
Hop = Callable[[httpx.URL], AbstractContextManager[object]]


@dataclass(frozen=True, slots=True)
class Response:
    """The parts of an HTTP response the pipeline keeps."""

    url: str  # after redirects
    status: int
    media_type: str
    charset: str | None  # the Content-Type header's label; checked against the bytes when decoded
    body: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Every limit of the fetch layer, narrowed from the settings (Settings.fetch_policy)."""

    user_agent: str
    timeout: float
    deadline: float
    max_bytes: int
    max_redirects: int
    allow_hosts: frozenset[tuple[str, int | None]]
    host_min_interval: float
    host_concurrency: int
    retry_after_cap: float
    attempts: int
    retry_base_delay: float
    robots_max_bytes: int
    obey_robots: bool
    feed_revalidate_hours: float
    feed_backoff_base: float
    feed_backoff_cap: float
    max_entries: int  # feed entries taken per feed and run
    workers: int  # concurrent fetches
    url_budget: float  # seconds one URL may take over all its tries, from its first request
    force: bool  # ignore feeds' back-off and validators: fetch every source now
    sitemap_max_age_days: float  # sitemap URLs dated before this many days ago are not taken
    sitemap_max_children: int  # sitemaps of an index read per run, newest first
    revisit_days: float = 2.0  # a forced run fetches again the listed articles fetched this recently


class Budget:
    """The wall-clock time one URL may still take, counted from its first request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._start: float | None = None

    def start(self) -> None:
        """Start the clock, unless an earlier request of the URL started it."""
        if self._start is None:
            self._start = time.monotonic()

    def left(self) -> float:
        """Return the seconds left; all of them before the first request."""
        if self._start is None:
            return self.seconds
        return self._start + self.seconds - time.monotonic()


def http_client(
    *,
    user_agent: str,
    timeout: float,
    allow_hosts: str | Iterable[str | tuple[str, int | None]] = (),
    verify: bool = True,
    resolve: Resolver = socket.getaddrinfo,
) -> httpx.Client:
    """Return the project's HTTP client: guarded sockets, no proxies, our User-Agent."""
    return httpx.Client(
        transport=GuardedTransport(parse_allow_hosts(allow_hosts), verify=verify, resolve=resolve),
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # followed in get(), each hop checked
        trust_env=False,  # a proxy from the environment would bypass the address check
        event_hooks={"response": [_check_location]},
    )


def _check_location(response: httpx.Response) -> None:
    """Refuse a Location that is no URL, before httpx parses it and calls it a protocol error."""
    if response.has_redirect_location:
        location = response.headers["location"]
        try:
            response.url.join(location)
        except httpx.InvalidURL as exc:
            raise BlockedAddress("invalid_url", f"redirect to {location!r}: {exc}") from exc


def get(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    accept: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    deadline: float = 60.0,
    max_redirects: int = 5,
    hop: Hop | None = None,
    truncate: bool = False,
    budget: Budget | None = None,
) -> Response:
    """Return the response to a GET after at most max_redirects hops; raise FetchError otherwise.

    Each hop runs under its own total deadline, shortened to what is left of the budget; the
    body is capped at max_bytes decoded, or cut there when truncate is set (robots.txt).
    """
    seen = {url}
    current = url
    try:
        for _ in range(max_redirects + 1):
            target = check_url(current)
            with hop(target) if hop else nullcontext():
                seconds = deadline  # waiting for a host slot is not counted
                if budget is not None:
                    budget.start()
                    seconds = min(deadline, budget.left())
                if seconds <= 0:
                    raise TransientFetchError("deadline_exceeded", f"no time left for {target}")
                with deadline_scope(seconds):
                    answer = _one(client, target, headers, max_bytes, tuple(accept), truncate)
            if isinstance(answer, Response):
                return answer
            current = answer
            if current in seen:
                raise FetchError("redirect_loop", current)
            seen.add(current)
    except (BlockedAddress, httpx.HTTPError, httpx.InvalidURL) as exc:
        raise fault(exc, current) from exc
    raise FetchError("too_many_redirects", f"more than {max_redirects} from {url}")


def _one(
    client: httpx.Client,
    url: httpx.URL,
    headers: dict[str, str] | None,
    max_bytes: int,
    accept: tuple[str, ...],
    truncate: bool,
) -> Response | str:
    """Return one hop's response, or the URL it redirects to."""
    with client.stream("GET", url, headers=headers) as resp:
        status = resp.status_code
        if status in REDIRECTS:
            location = resp.headers.get("location")
            if not location:
                raise FetchError("bad_redirect", f"{status} without Location from {url}")
            return str(url.join(location))
        if status == 304:
            return Response(
                str(url), 304, "", None, b"", resp.headers.get("etag"), resp.headers.get("last-modified")
            )
        if status in (408, 429) or status >= 500:
            wait = retry_after_seconds(resp.headers.get("retry-after"), datetime.now(UTC))
            raise TransientFetchError(f"http_{status}", str(url), retry_after=wait)
        if not 200 <= status < 300:
            raise FetchError(f"http_{status}", str(url))
        media_type, declared = content_type(resp.headers.get("content-type", ""))
        if accept and media_type and media_type not in accept:
            raise FetchError("unsupported_content_type", media_type)
        coding = resp.headers.get("content-encoding", "").strip().lower()
        if coding not in CODINGS:
            raise FetchError("unsupported_encoding", coding)
        length = resp.headers.get("content-length", "")
        if not truncate and length.isdigit() and int(length) > max_bytes:
            raise FetchError("too_large", f"Content-Length {length} > {max_bytes}")
        body = _read(resp.iter_raw(CHUNK), CODINGS[coding], max_bytes, truncate)
    # Feeds, pages and robots.txt are all text; a gzip file only where asked for (sitemaps).
    packed = body[:2] == b"\x1f\x8b" and "application/gzip" in accept
    if not packed and looks_binary(body[:1024]):
        raise FetchError("binary_content", f"{media_type or 'no type'} with binary bytes")
    etag, modified = resp.headers.get("etag"), resp.headers.get("last-modified")
    return Response(str(url), status, media_type, declared, body, etag, modified)


def _read(raw: Iterable[bytes], wbits: int, max_bytes: int, truncate: bool) -> bytes:
    """Return the decoded body; past max_bytes raise too_large, or cut it when truncating."""
    chunks: list[bytes] = []
    size = 0
    for chunk in _inflate(raw, wbits, max_bytes + 1):
        size += len(chunk)
        chunks.append(chunk)
        if size > max_bytes:
            if truncate:
                return b"".join(chunks)[:max_bytes]
            raise FetchError("too_large", f"more than {max_bytes} bytes")
    return b"".join(chunks)


def _inflate(raw: Iterable[bytes], wbits: int, limit: int) -> Iterator[bytes]:
    """Yield the body decoded, never much more than limit bytes however well it compresses."""
    received = 0
    if wbits == 0:
        for chunk in raw:
            received += len(chunk)
            yield chunk
            if received >= limit:
                return
        return
    decoder = zlib.decompressobj(wbits)
    produced = 0
    next_member = False
    for chunk in raw:
        received += len(chunk)
        if received > limit:  # compressed bytes alone are over the cap
            raise FetchError("too_large", f"more than {limit - 1} bytes on the wire")
        data = chunk
        while data and produced < limit:
            try:
                out = decoder.decompress(data, limit - produced)
            except zlib.error as exc:
                if wbits == 15 and produced == 0:  # 'deflate' is often sent without zlib header
                    wbits, decoder = -15, zlib.decompressobj(-15)
                    continue
                if next_member:  # padding or garbage after a complete gzip member
                    return
                raise FetchError("decoding_error", str(exc)) from exc
            produced += len(out)
            if out:
                yield out
            data = decoder.unconsumed_tail
            if decoder.eof and decoder.unused_data:  # concatenated gzip members
                data, decoder = decoder.unused_data, zlib.decompressobj(wbits)
                next_member = True
        if produced >= limit:
            return
    if not decoder.eof and not next_member:
        raise FetchError("decoding_error", "the compressed body ends early")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Return the wait a Retry-After header asks for (seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def guarded_client(policy: FetchPolicy, verify: bool = True) -> httpx.Client:
    """Return the HTTP client a policy describes."""
    return http_client(
        user_agent=policy.user_agent, timeout=policy.timeout, allow_hosts=policy.allow_hosts, verify=verify
    )
