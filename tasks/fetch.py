"""Fetching: seed files from a folder, feeds and article pages over HTTP."""

from __future__ import annotations

import calendar
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from tasks.runlog import run_logger

from tasks.records import EntryMeta, Quarantined, RawDocument, Source

FILE_TYPES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_ENTITY_DECL = re.compile(rb"<!(ENTITY|DOCTYPE[^>]*\[)", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


class FetchError(Exception):
    """A document could not be fetched; reason is a short code for the quarantine."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TransientFetchError(FetchError):
    """A fetch failed in a way that may succeed later (timeouts, 5xx, 429)."""


class FeedRejected(FetchError):
    """A feed document was refused before or while parsing."""


@dataclass(frozen=True, slots=True)
class Response:
    """The parts of an HTTP response the pipeline keeps."""

    url: str  # after redirects
    status: int
    media_type: str
    charset: str | None
    body: bytes


def read_folder(
    folder: Path, source: Source, *, now: datetime, max_bytes: int
) -> tuple[list[RawDocument], list[Quarantined]]:
    """Return the article files of a folder as raw documents, and the files set aside."""
    docs: list[RawDocument] = []
    bad: list[Quarantined] = []
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        media_type = FILE_TYPES.get(path.suffix.lower())
        if media_type is None or path.is_dir():
            continue  # not an article file (sources.toml, README.md, images...)
        key = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        reason, detail, body = _read_file(path, root, max_bytes)
        if reason:
            bad.append(Quarantined(source.source_id, key, "fetch", reason, detail))
        else:
            docs.append(RawDocument(source.source_id, key, body, media_type, now))
    return docs, bad


def _read_file(path: Path, root: Path, max_bytes: int) -> tuple[str, str, bytes]:
    real = path.resolve()
    if not real.is_relative_to(root):
        return "outside_folder", f"links to {real}", b""
    try:
        size = real.stat().st_size
        if size > max_bytes:
            return "too_large", f"{size} bytes > {max_bytes}", b""
        body = real.read_bytes()
    except OSError as exc:
        return "unreadable", str(exc), b""
    if not body.strip():
        return "empty", "no content", b""
    if b"\x00" in body[:8192]:
        return "binary", "NUL bytes in the first 8 KiB", b""
    return "", "", body


def http_client(*, user_agent: str, timeout: float) -> httpx.Client:
    """Return the project's HTTP client: bounded timeouts and redirects, our User-Agent."""
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=5,
    )


def get(client: httpx.Client, url: str, *, max_bytes: int, accept: Iterable[str] = ()) -> Response:
    """Return the response to a GET, streamed under a size cap; raise FetchError otherwise."""
    try:
        with client.stream("GET", url) as resp:
            if resp.status_code in (429,) or resp.status_code >= 500:
                raise TransientFetchError(f"http_{resp.status_code}", url)
            if resp.status_code >= 400:
                raise FetchError(f"http_{resp.status_code}", url)
            media_type, charset = _content_type(resp.headers.get("content-type", ""))
            accepted = tuple(accept)
            if accepted and media_type and media_type not in accepted:
                raise FetchError("unsupported_content_type", media_type)
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():  # decoded: a compressed bomb hits the cap too
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("too_large", f"more than {max_bytes} bytes")
                chunks.append(chunk)
            return Response(str(resp.url), resp.status_code, media_type, charset, b"".join(chunks))
    except httpx.TooManyRedirects as exc:
        raise FetchError("too_many_redirects", str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise TransientFetchError("timeout", f"{type(exc).__name__} {url}") from exc
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise TransientFetchError("network_error", f"{type(exc).__name__}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise FetchError("invalid_url", str(exc)) from exc


def _content_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    match = re.search(r"charset=[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return media_type.strip().lower(), match.group(1).lower() if match else None


def with_retries(
    call: Callable[[], Response], *, attempts: int = 3, base_delay: float = 0.5
) -> Response:
    """Return call(), retrying transient failures with exponential back-off and jitter."""
    for attempt in range(attempts):
        try:
            return call()
        except TransientFetchError:
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


def parse_feed(
    body: bytes, url: str, *, max_entries: int, media_type: str = ""
) -> tuple[list[EntryMeta], str | None]:
    """Return a feed's entries and its fault when it was malformed but salvageable."""
    if _ENTITY_DECL.search(body[:65536]):
        # feedparser's loose parser expands internal entities itself: a billion-laughs risk.
        raise FeedRejected("entity_declaration", "feed declares a DTD or entities")
    if body.lstrip()[:1] == b"{":
        return _json_feed(body, url, max_entries), None
    headers = {"content-location": url, "content-type": media_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers)
    error = parsed.get("bozo_exception")
    benign = isinstance(error, feedparser.NonXMLContentType)  # servers mislabel feeds daily
    fault = None if error is None or benign else f"{type(error).__name__}: {error}"
    if not parsed.entries:
        if not parsed.version:
            raise FeedRejected("not_a_feed", fault or "no RSS, Atom or RDF root element")
        raise FeedRejected("empty_feed", fault or "no entries")
    base = parsed.get("href") or url
    return [_entry(e, base) for e in parsed.entries[:max_entries]], fault


def _json_feed(body: bytes, url: str, max_entries: int) -> list[EntryMeta]:
    """Return the entries of a JSON Feed (jsonfeed.org), which feedparser does not read."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
        items = data["items"]
        if not isinstance(items, list):
            raise TypeError("items is not a list")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FeedRejected("malformed_feed", f"JSON Feed: {exc}") from exc
    if not items:
        raise FeedRejected("empty_feed", "no entries")
    entries = []
    for item in items[:max_entries]:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        link = item.get("url") or item.get("external_url")
        summary = item.get("summary") or item.get("content_text") or item.get("content_html")
        entries.append(EntryMeta(
            link=urljoin(url, link) if isinstance(link, str) else None,
            guid=str(item["id"]) if item.get("id") is not None else None,
            title=item.get("title") or None,
            author=", ".join(names) or None,
            published=_iso(item.get("date_published") or item.get("date_modified")),
            summary=_TAGS.sub(" ", summary).strip() if isinstance(summary, str) else None,
        ))
    return entries


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(entry: feedparser.FeedParserDict, base: str) -> EntryMeta:
    link = entry.get("link") or next(
        (ln.get("href") for ln in entry.get("links", []) if ln.get("href")), None
    )
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    summary = entry.get("summary")
    return EntryMeta(
        link=urljoin(base, link) if link else None,
        guid=entry.get("id") or None,
        title=entry.get("title") or None,
        author=entry.get("author") or None,
        published=datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None,
        summary=_TAGS.sub(" ", summary).strip() if summary else None,
    )


def fetch_page(
    client: httpx.Client, url: str, source_id: str, *, now: datetime, max_bytes: int,
    entry: EntryMeta | None = None,
) -> RawDocument | Quarantined:
    """Return the fetched article page, or its quarantine record."""
    try:
        resp = with_retries(lambda: get(client, url, max_bytes=max_bytes, accept=PAGE_TYPES))
    except FetchError as exc:
        return Quarantined(source_id, url, "fetch", exc.reason, exc.detail)
    media_type = "text/plain" if resp.media_type == "text/plain" else "text/html"
    return RawDocument(source_id, url, resp.body, media_type, now, resp.charset, entry, resp.url)


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch task hands on: documents, quarantined items, and feed faults."""

    documents: list[RawDocument]
    quarantined: list[Quarantined]
    skipped_known: int = 0


@task(name="read-seeds", cache_policy=NO_CACHE)
def read_seeds(folder: Path, source: Source, now: datetime, max_bytes: int) -> Fetched:
    """Read the seed folder's article files."""
    docs, bad = read_folder(folder, source, now=now, max_bytes=max_bytes)
    run_logger().info("read %d files from %s, %d set aside", len(docs), folder, len(bad))
    return Fetched(docs, bad)


@task(name="fetch-web", cache_policy=NO_CACHE, timeout_seconds=3600)
def fetch_web(
    feeds: list[Source], pages: list[Source], known: frozenset[str], now: datetime,
    user_agent: str, timeout: float, max_bytes: int, max_entries: int, workers: int,
) -> Fetched:
    """Fetch the feeds, then their new entries' pages and the listed pages, in parallel."""
    logger = run_logger()
    bad: list[Quarantined] = []
    todo: list[tuple[str, str, EntryMeta | None]] = [(p.uri, p.source_id, None) for p in pages]
    with http_client(user_agent=user_agent, timeout=timeout) as client:
        for feed in feeds:
            try:
                resp = with_retries(lambda f=feed: get(client, f.uri, max_bytes=max_bytes))
                entries, fault = parse_feed(
                    resp.body, resp.url, max_entries=max_entries, media_type=resp.media_type
                )
            except FetchError as exc:
                bad.append(Quarantined(feed.source_id, feed.uri, "fetch", exc.reason, exc.detail))
                logger.warning("feed %s set aside: %s", feed.uri, exc)
                continue
            if fault:
                bad.append(Quarantined(feed.source_id, feed.uri, "parse", "bozo_feed", fault))
                logger.warning("feed %s is malformed, %d entries salvaged", feed.uri, len(entries))
            for entry in entries:
                if entry.link is None:
                    bad.append(Quarantined(feed.source_id, entry.guid or feed.uri, "parse",
                                           "no_link", entry.title or ""))
                else:
                    todo.append((entry.link, feed.source_id, entry))
        unique, skipped = _new_urls(todo, known)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(
                lambda item: fetch_page(client, item[0], item[1], now=now, max_bytes=max_bytes,
                                        entry=item[2]),
                unique,
            ))
    docs = [r for r in results if isinstance(r, RawDocument)]
    bad += [r for r in results if isinstance(r, Quarantined)]
    logger.info("fetched %d pages, %d set aside, %d already stored", len(docs), len(bad), skipped)
    return Fetched(docs, bad, skipped)



def _new_urls(
    todo: list[tuple[str, str, EntryMeta | None]], known: frozenset[str]
) -> tuple[list[tuple[str, str, EntryMeta | None]], int]:
    """Return the items whose URL is neither stored nor listed earlier, and how many were stored."""
    seen: set[str] = set()
    fresh = []
    stored = 0
    for item in todo:
        if item[0] in known:
            stored += 1
        elif item[0] not in seen:
            seen.add(item[0])
            fresh.append(item)
    return fresh, stored
