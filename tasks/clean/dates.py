"""Dates a page or its URL states, never a guess: meta tags, JSON-LD, marked-up times, URL paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from htmldate.extractors import try_date_expr
from lxml.html import HtmlElement

from tasks.normalize import plausible_date
from tasks.records import EntryMeta

DateSource = Literal["feed", "page", "url"]

# Meta tags and JSON-LD types that state when an article was first published. Modification
# dates are not that, nor is a WebPage's datePublished (the CMS's page creation time).
_PUBLISHED_META = frozenset(
    [
        *("article:published_time", "og:article:published_time", "og:published_time"),
        *("article:published", "datepublished", "date", "pubdate", "publishdate", "publish-date"),
        *("publish_date", "publication_date", "dc.date", "dc.date.issued", "dcterms.issued"),
        *("dcterms.date", "dcterms.created", "sailthru.date", "parsely-pub-date"),
        *("citation_publication_date", "citation_date", "cxenseparse:publishtime"),
    ]
)
_ARTICLE_TYPE = re.compile(r"Article$|Posting$|^Report$")
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
# Bounds for htmldate's parser, fixed so that no clock is read here: normalize judges plausibility.
_EARLIEST, _LATEST = datetime(1990, 1, 1), datetime(2100, 1, 1)
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](?:\d{4}|\d{2})(?!\d)")
MAX_DATE_TEXT = 100  # characters of an element's text read as a written date
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?=[/.-]|$)")


def iso_date(value: str) -> str | None:
    """Return a stated date as ISO 8601 (with its time and offset when given), or None if unreadable."""
    value = value.strip()
    match = _ISO_DATE.match(value)
    if match is None:
        try:
            return parsedate_to_datetime(value).isoformat()
        except (TypeError, ValueError, IndexError):
            return _written_date(value)
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if hour is None:
        return when.date().isoformat()
    zone = "+00:00" if offset in ("Z", "UTC", "GMT") else (offset or "")
    if zone and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return when.isoformat() + zone


def _written_date(text: str) -> str | None:
    """Return the day a date written in words states ("October 17, 2018", "17. Oktober 2018"), or None."""
    text = text[:MAX_DATE_TEXT]
    numeric = _NUMERIC_DATE.search(text)
    # 03/09/2026 is March or September depending on the reader: which one is not stated
    if numeric and numeric[1] != numeric[2] and max(int(numeric[1]), int(numeric[2])) <= 12:
        return None
    found = try_date_expr(text, "%Y-%m-%d", False, _EARLIEST, _LATEST)
    # htmldate completes "2024/05" to the 1st: a day the text does not state is a guess
    if found is None or not re.search(rf"(?<!\d)0?{int(found[8:])}(?!\d)", text):
        return None
    return str(found)


def _json_ld_nodes(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content())
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                yield node
                stack.extend(v for v in reversed(node.values()) if isinstance(v, (list, dict)))


def _is_article(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    return any(_ARTICLE_TYPE.search(str(k)) for k in (kind if isinstance(kind, list) else [kind]))


def _stated_dates(tree: HtmlElement) -> Iterator[str]:
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = meta.get("content")
        if key in _PUBLISHED_META and content:
            yield content
    for node in _json_ld_nodes(tree):
        published = node.get("datePublished")
        if isinstance(published, str) and _is_article(node):
            yield published
    elements = tree.xpath('//*[@itemprop="datePublished"] | //time[@pubdate]')
    values = {" ".join((e.get("datetime") or e.get("content") or e.text_content()).split()) for e in elements}
    # several different dates are a list of posts, and which one is this article's is not stated
    if len(values) == 1:
        yield values.pop()


def page_date(tree: HtmlElement) -> str | None:
    """Return the publication date the page's metadata states (meta tags, JSON-LD, <time>), or None."""
    for value in _stated_dates(tree):
        stated = iso_date(value)
        if stated:
            return stated
    return None


def url_date(url: str | None) -> str | None:
    """Return the date a URL's path spells as /YYYY/MM/DD/, or None."""
    try:
        match = _URL_DATE.search(urlsplit(url).path) if url else None
    except ValueError:
        return None
    if match is None:
        return None
    try:
        year, month, day = (int(g) for g in match.groups())
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def stated_date(page: str | None, url: str | None) -> tuple[str | None, DateSource | None]:
    """Return the date a page states and where: its metadata, else the URL's path; (None, None) if neither."""
    in_url = url_date(url)
    # a URL is fixed when the story first goes up; metadata may carry a later re-publication
    if in_url and (page is None or page[:10] != in_url):
        return in_url, "url"
    return (page, "page") if page else (None, None)


def feed_date(entry: EntryMeta | None, fetched_at: datetime) -> datetime | None:
    """Return the date a feed entry states when it is plausible at fetch time (as normalize
    judges it), so the page need not be searched; None when there is none to trust."""
    if entry is None or entry.published is None:
        return None
    return entry.published if plausible_date(entry.published, now=fetched_at) else None
