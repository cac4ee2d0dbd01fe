"""Sitemaps: URL sets, sitemap indexes, Google News and gzip sitemaps, with hostile XML refused first."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from lxml import etree

from tasks.fetch.feeds import FeedRejected, _declares_entities
from tasks.records import EntryMeta

# Servers label sitemaps loosely, and a .xml.gz is often sent as a file, not Content-Encoding.
SITEMAP_TYPES = (
    "application/xml",
    "text/xml",
    "application/x-gzip",
    "application/gzip",
    "application/octet-stream",
    "text/plain",
    "text/html",
)
MAX_URLS = 50_000  # the protocol's limit per sitemap; past it the document is not a sitemap's
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Listed:
    """One <url> (or <sitemap>) of a sitemap: its entry and the date it says it last changed."""

    entry: EntryMeta
    changed: datetime | None  # the news publication date, else lastmod


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: the page URLs of a urlset, or the sitemaps of an index."""

    urls: list[Listed] = field(default_factory=list)
    children: list[Listed] = field(default_factory=list)
    fault: str | None = None  # malformed past some entries, cut at the size cap, over 50,000 URLs


def parse_sitemap(body: bytes, url: str, *, max_bytes: int) -> Sitemap:
    """Return a sitemap's URLs or child sitemaps; raise FeedRejected when it is none or hostile."""
    body, cut = _gunzip(body, max_bytes) if body[:2] == GZIP_MAGIC else (body, False)
    if _declares_entities(body):
        raise FeedRejected("entity_declaration", "sitemap declares a DTD or entities")
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:4].lower() in (b"http", b"") or not start.startswith(b"<"):
        return _text_sitemap(start, url)
    listed: list[Listed] = []
    root: str | None = None
    cut_note = f"cut at the size cap ({max_bytes} bytes unpacked)" if cut else None
    fault = cut_note
    parser = etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        tag=("{*}url", "{*}sitemap"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, elem in parser:
            if root is None:
                root = _root_name(elem.getroottree().getroot())
            item = _listed(elem, url)
            if item is not None:
                listed.append(item)
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:  # parsed entries, freed as the parse goes
                del elem.getparent()[0]
    except etree.XMLSyntaxError as exc:
        if root is None:
            raise FeedRejected("not_a_sitemap", f"not XML: {exc}") from exc
        if not listed:
            raise FeedRejected("malformed_sitemap", str(exc)) from exc
        fault = "; ".join(filter(None, [cut_note, f"XMLSyntaxError after {len(listed)} entries: {exc}"]))
    root = root or _root_name(parser.root)
    if len(listed) > MAX_URLS:  # kept: what a run takes of them is the listing's cap
        fault = f"{len(listed)} entries, more than the protocol's {MAX_URLS}"
    if root == "sitemapindex":
        return Sitemap(children=listed, fault=fault)
    return Sitemap(urls=listed, fault=fault)


def _gunzip(body: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Return a gzip file's content up to max_bytes, and whether it was cut there."""
    inflater = zlib.decompressobj(31)
    try:
        out = inflater.decompress(body, max_bytes)
    except zlib.error as exc:
        raise FeedRejected("malformed_sitemap", f"gzip: {exc}") from exc
    if not out and not inflater.eof:
        raise FeedRejected("malformed_sitemap", "gzip: the stream ends before any content")
    return out, bool(inflater.unconsumed_tail)


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    """Return the URLs of a plain-text sitemap: one absolute URL a line."""
    lines = body.decode("utf-8", errors="replace").splitlines()
    links = [ln.strip() for ln in lines if ln.strip().startswith(("http://", "https://"))]
    if not links:
        raise FeedRejected("not_a_sitemap", "no XML root element and no URL lines")
    return Sitemap(urls=[Listed(EntryMeta(link=urljoin(url, ln)), None) for ln in links])


def _root_name(root: etree._Element | None) -> str:
    """Return the root element's local name; raise FeedRejected unless it is a sitemap's."""
    name = etree.QName(root).localname if root is not None and isinstance(root.tag, str) else ""
    if name not in ("urlset", "sitemapindex"):
        raise FeedRejected("not_a_sitemap", f"root element <{name}>, not <urlset> or <sitemapindex>")
    return name


def _children(elem: etree._Element) -> dict[str, etree._Element]:
    """Return an element's children by local name, the first of each name."""
    found: dict[str, etree._Element] = {}
    for child in elem:
        if isinstance(child.tag, str):
            found.setdefault(child.tag.rpartition("}")[2], child)
    return found


def _absolute(base: str, loc: str) -> str:
    return loc if loc.startswith(("http://", "https://")) else urljoin(base, loc)


def _text(elem: etree._Element | None) -> str | None:
    text = (elem.text or "").strip() if elem is not None else ""
    return text or None


def _listed(elem: etree._Element, base: str) -> Listed | None:
    parts = _children(elem)
    loc = _text(parts.get("loc"))
    if loc is None:
        return None
    lastmod = w3c_date(_text(parts.get("lastmod")))
    news = parts.get("news")
    if news is None:
        return Listed(EntryMeta(link=_absolute(base, loc), updated=lastmod), lastmod)
    about = _children(news)
    published = w3c_date(_text(about.get("publication_date")))
    publication = about.get("publication")
    entry = EntryMeta(
        link=_absolute(base, loc),
        title=_text(about.get("title")),
        published=published,
        language=_text(_children(publication).get("language")) if publication is not None else None,
        updated=lastmod,
    )
    return Listed(entry, published or lastmod)


def w3c_date(value: str | None) -> datetime | None:
    """Return a W3C datetime (a date, or a date and time with a zone) in UTC; None when unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recent(listed: list[Listed], now: datetime, max_age_days: float) -> tuple[list[EntryMeta], int]:
    """Return the entries dated within the window (undated ones too), newest first, and how many
    were older."""
    since = now - timedelta(days=max_age_days)
    kept = [item for item in listed if item.changed is None or item.changed >= since]
    kept.sort(key=lambda item: item.changed or since, reverse=True)
    return [item.entry for item in kept], len(listed) - len(kept)
