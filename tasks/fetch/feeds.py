"""Feed documents: RSS, Atom, RDF and JSON Feed entries, with hostile XML refused first."""

from __future__ import annotations

import calendar
import codecs
import json
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from tasks.fetch.faults import FetchError
from tasks.records import EntryMeta

_ENTITY_DECL = re.compile(rb"<!(ENTITY|DOCTYPE[^>]*\[)", re.IGNORECASE)
# Wide encodings hide the ASCII pattern from a bytes search; feedparser decodes them.
_WIDE = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_TAGS = re.compile(r"<[^>]+>")


class FeedRejected(FetchError):
    """A feed document was refused before or while parsing."""


def parse_feed(body: bytes, url: str, *, media_type: str = "") -> tuple[list[EntryMeta], str | None]:
    """Return all of a feed's entries (its size is capped by the fetch) and its fault when it
    was malformed but salvageable; what a run takes of them is the listing's choice."""
    if _declares_entities(body):
        # feedparser's loose parser expands internal entities itself: a billion-laughs risk.
        raise FeedRejected("entity_declaration", "feed declares a DTD or entities")
    if body.lstrip()[:1] == b"{":
        return _json_feed(body, url), None
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
    return [_entry(e, base) for e in parsed.entries], fault


def _declares_entities(body: bytes) -> bool:
    """Return True if the document declares entities or an internal DTD subset, in any encoding."""
    if _ENTITY_DECL.search(body):  # the whole body: a DTD may follow a long comment
        return True
    for mark, codec in _WIDE:
        if body.startswith(mark):
            return _ENTITY_DECL.search(body.decode(codec, errors="replace").encode()) is not None
    return False


def _json_feed(body: bytes, url: str) -> list[EntryMeta]:
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
    for item in items:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
        link = item.get("url") or item.get("external_url")
        summary = item.get("summary") or item.get("content_text") or item.get("content_html")
        entries.append(
            EntryMeta(
                link=urljoin(url, link) if isinstance(link, str) else None,
                guid=str(item["id"]) if item.get("id") is not None else None,
                title=item["title"] if isinstance(item.get("title"), str) and item["title"] else None,
                author=", ".join(names) or None,
                published=_iso(item.get("date_published") or item.get("date_modified")),
                updated=_iso(item.get("date_modified")),
                summary=_TAGS.sub(" ", summary).strip() if isinstance(summary, str) else None,
            )
        )
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
    changed = entry.get("updated_parsed")
    summary = entry.get("summary")
    return EntryMeta(
        link=urljoin(base, link) if link else None,
        guid=entry.get("id") or None,
        title=entry.get("title") or None,
        author=entry.get("author") or None,
        published=datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None,
        summary=_TAGS.sub(" ", summary).strip() if summary else None,
        updated=datetime.fromtimestamp(calendar.timegm(changed), UTC) if changed else None,
    )
