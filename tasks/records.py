"""Records that cross stage boundaries, named for what the data is at that point."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

SourceKind = Literal["seeds", "feed", "page", "sitemap"]
Stage = Literal["fetch", "parse", "clean", "language", "normalize", "load"]
DuplicateKind = Literal["url", "guid", "content", "near"]


def stable_id(*parts: str) -> str:
    """Return a 16-byte hex digest of the parts: the project's stable id scheme."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Run:
    """What names one run everywhere: its id, and the time it started (passed, never read)."""

    run_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Source:
    """A configured origin of documents: the seeds folder, a feed, a sitemap or a page URL."""

    kind: SourceKind
    uri: str
    name: str | None = field(default=None, compare=False)  # what the user called it, if anything

    @property
    def source_id(self) -> str:
        return stable_id(self.kind, self.uri)


@dataclass(frozen=True, slots=True)
class EntryMeta:
    """What a feed entry or sitemap URL says about its article, kept as fallback for the page."""

    link: str | None = None
    guid: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    summary: str | None = None
    language: str | None = None  # a news sitemap's news:language, as the publisher declares it
    updated: datetime | None = None  # when the entry says its page last changed: <updated>, lastmod


@dataclass(frozen=True, slots=True)
class PageJob:
    """An article page to fetch: its URL, its source, and what its feed entry said."""

    url: str
    source_id: str
    entry: EntryMeta | None = None


@dataclass(frozen=True, slots=True)
class FileJob:
    """A seed file to read: its path, the folder it must stay in, and its document key."""

    path: Path
    root: Path
    key: str
    source_id: str
    media_type: str
    bad_name: bool = False  # not UTF-8 or with control characters: set aside once readable


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Bytes as fetched from a file or over HTTP, before any cleaning."""

    source_id: str
    uri: str  # what identifies the document across runs: the URL asked for, or <folder>/<file>
    body: bytes
    media_type: str  # 'text/plain' or 'text/html'
    fetched_at: datetime
    charset: str | None = None  # the HTTP header's label, when the transport said one
    entry: EntryMeta | None = None
    final_url: str | None = None  # the URL answered, after redirects; None for files


@dataclass(frozen=True, slots=True)
class Document:
    """Main text and metadata cleaned out of a raw document."""

    raw: RawDocument
    text: str
    title: str | None = None
    author: str | None = None
    published: str | datetime | None = None  # as found; normalized later
    date_source: str | None = None  # where published came from: 'feed', 'page', 'url'; None if nowhere
    site_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    encoding: str | None = None  # how the raw bytes were decoded: see tasks.decode.Decoded
    encoding_source: str | None = None
    replaced_chars: int = 0


@dataclass(frozen=True, slots=True)
class Article:
    """A normalized, language-tagged article: exactly one row of the articles table."""

    article_id: str
    source_id: str
    raw_uri: str  # RawDocument.uri: the key that says "seen before" on later runs
    url: str | None
    canonical_url: str | None
    guid: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    date_source: str | None  # 'feed', 'page' (its metadata), 'url' (its path); None with no date
    language: str
    language_prob: float
    text: str
    word_count: int
    content_hash: str
    site_name: str | None
    description: str | None
    tags: tuple[str, ...]
    fetched_at: datetime
    run_id: str
    encoding: str | None  # the codec the raw bytes were decoded with
    encoding_source: str | None  # 'bom' | 'http' | 'meta' | 'xml' | 'detected' | 'default'
    replaced_chars: int  # U+FFFD the decode put in for bytes the encoding does not allow


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article with what deduplication and the raw_documents table need besides its row."""

    article: Article
    # The raw document's body as fetched, zlib level 6: the raw_documents row's bytes. Empty when
    # the article comes without its raw document.
    body_zlib: bytes = field(repr=False)
    media_type: str  # the raw document's: 'text/plain' or 'text/html'
    signature: bytes = field(repr=False)  # MinHash of the text
    shingles: int  # distinct word shingles of the text: which text of a pair is inside the other


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An incoming copy of an article already stored, and why it is one."""

    duplicate_id: str  # the incoming copy: its own id, URL or path
    duplicate_of: str  # articles.article_id
    kind: DuplicateKind
    similarity: float
    source_id: str
    uri: str
    containment: float | None = None  # set when a near-duplicate was found by containment only


@dataclass(frozen=True, slots=True)
class Deferred:
    """An item left for a later run, with why, and its feed entry so it is fetched as listed."""

    source_id: str
    uri: str
    reason: str  # 'entry_cap', or a fetch fault that may pass later (retry_later, http_503, ...)
    detail: str = ""
    entry: EntryMeta | None = None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Input set aside with a reason, instead of crashing the run or being lost."""

    source_id: str
    uri: str
    stage: Stage
    reason: str  # short machine-readable code, e.g. 'http_404', 'empty', 'bozo_feed'
    detail: str = ""
