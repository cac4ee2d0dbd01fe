"""Discovery: a site's feeds and sitemaps, from its home page, robots.txt and the usual paths."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from tasks.fetch.faults import FetchError
from tasks.fetch.feeds import parse_feed
from tasks.fetch.http import Response
from tasks.fetch.listing import FEED_TYPES, explained
from tasks.fetch.polite import Fetcher
from tasks.fetch.sitemaps import SITEMAP_TYPES, parse_sitemap
from tasks.records import SourceKind

FEED_LINK_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)
FEED_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml")
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")
_SECONDARY = ("comment", "kommentar", "commentaire", "/comments")  # feeds of comments, not stories


@dataclass(frozen=True, slots=True)
class Candidate:
    """A feed or sitemap URL a site points at, and where it was found."""

    kind: SourceKind
    url: str
    found_in: str  # 'home page', 'robots.txt' or 'common path'
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A candidate as fetched: what it holds, or why it is not usable."""

    candidate: Candidate
    entries: int = 0  # a feed's entries, a sitemap's URLs or child sitemaps
    news: bool = False  # a Google News sitemap, or an index of them
    index: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def feed_links(html: bytes, base: str) -> list[Candidate]:
    """Return the feeds a home page announces with <link rel="alternate">, in page order."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    found = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_LINK_TYPES and href:
            found.append(Candidate("feed", urljoin(base, href), "home page", link.get("title")))
    return found


def robots_sitemaps(text: str, base: str) -> list[Candidate]:
    """Return the sitemaps a robots.txt names on its Sitemap: lines."""
    found = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.append(Candidate("sitemap", urljoin(base, value.strip()), "robots.txt"))
    return found


def candidates(site: str, home: bytes | None, robots: str | None) -> list[Candidate]:
    """Return every feed and sitemap candidate of a site, announced ones first, each URL once."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(site))
    listed = [
        *(feed_links(home, site) if home else []),
        *(Candidate("feed", origin + p, "common path") for p in FEED_PATHS),
        *(robots_sitemaps(robots, origin) if robots else []),
        *(Candidate("sitemap", origin + p, "common path") for p in SITEMAP_PATHS),
    ]
    unique: dict[str, Candidate] = {}
    for c in listed:
        unique.setdefault(c.url, c)
    return list(unique.values())


def best(found: list[Found]) -> list[Found]:
    """Return the ones to subscribe to: the first usable announced feed that is not of comments,
    and a news sitemap if the site has one, else its first usable sitemap."""
    feeds = [f for f in found if f.ok and f.candidate.kind == "feed"]
    stories = [f for f in feeds if not _secondary(f.candidate)] or feeds
    sitemaps = [f for f in found if f.ok and f.candidate.kind == "sitemap"]
    news = [f for f in sitemaps if f.news] or sitemaps
    return stories[:1] + news[:1]


def _secondary(c: Candidate) -> bool:
    text = f"{c.title or ''} {c.url}".lower()
    return any(word in text for word in _SECONDARY)


def discover(fetcher: Fetcher, site: str) -> list[Found]:
    """Return a site's feed and sitemap candidates, each fetched and parsed once."""
    home = _get(fetcher, site, ("text/html", "application/xhtml+xml"))
    base = home.url if home else site  # links are relative to the page a redirect led to
    robots = _get(fetcher, "{0.scheme}://{0.netloc}/robots.txt".format(urlsplit(base)), ("text/plain",))
    text = robots.body.decode("utf-8", errors="replace") if robots else None
    return [probe(fetcher, c) for c in candidates(base, home.body if home else None, text)]


def probe(fetcher: Fetcher, candidate: Candidate) -> Found:
    """Return what a candidate holds when fetched and parsed, or why it failed."""
    try:
        if candidate.kind == "feed":
            resp = fetcher.fetch(candidate.url, accept=FEED_TYPES)
            entries, _ = parse_feed(resp.body, resp.url, media_type=resp.media_type)
            return Found(candidate, len(entries))
        resp = fetcher.fetch(candidate.url, accept=SITEMAP_TYPES)
        sitemap = parse_sitemap(resp.body, resp.url, max_bytes=fetcher.policy.max_bytes)
    except FetchError as exc:
        return Found(candidate, error=f"{exc.reason}: {explained(exc)}")
    news = any(item.entry.published or item.entry.language for item in sitemap.urls)
    index = bool(sitemap.children)
    news = news or (index and any("news" in (c.entry.link or "").lower() for c in sitemap.children))
    return Found(candidate, len(sitemap.urls) + len(sitemap.children), news, index)


def _get(fetcher: Fetcher, url: str, accept: tuple[str, ...]) -> Response | None:
    try:
        return fetcher.fetch(url, accept=accept)
    except FetchError:
        return None  # a site without a home page or robots.txt still has its common paths
