"""Cleaning: main text and metadata out of HTML pages and plain-text files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tasks.clean.boilerplate import clean_plain_text
from tasks.clean.dates import feed_date
from tasks.clean.html import ParseLimit, extract_html
from tasks.clean.metadata import clean_author, clean_title
from tasks.clean.quality import low_quality
from tasks.clean.stories import repeated_lines
from tasks.decode import decode
from tasks.records import Document, Quarantined, RawDocument

MIN_SOURCE_DOCS = 3  # lines repeated across at least this many files of a source are boilerplate


def decode_text(body: bytes, declared: str | None = None) -> str:
    """Return plain-text bytes decoded as tasks.decode.decode chooses (no markup to read)."""
    return decode(body, declared, markup=False).text


def clean_document(raw: RawDocument, repeated: frozenset[str] = frozenset()) -> Document | Quarantined:
    """Return the cleaned document, or a quarantine record when no main text is left."""
    html = raw.media_type == "text/html"
    decoded = decode(raw.body, raw.charset, markup=html)
    stated = feed_date(raw.entry, raw.fetched_at)
    doc = _clean_html(raw, decoded.text, stated) if html else _clean_plain(raw, decoded.text, repeated)
    if isinstance(doc, Quarantined):
        return doc
    return _with_entry(
        replace(
            doc, encoding=decoded.encoding, encoding_source=decoded.source, replaced_chars=decoded.replaced
        ),
        stated,
    )


def _clean_plain(raw: RawDocument, text: str, repeated: frozenset[str]) -> Document | Quarantined:
    cleaned = clean_plain_text(text, repeated=repeated)
    if cleaned is None:
        return Quarantined(
            raw.source_id, raw.uri, "clean", "no_main_text", "nothing left after boilerplate removal"
        )
    return Document(raw, cleaned.body, cleaned.title, cleaned.author)


def _clean_html(raw: RawDocument, html: str, stated: datetime | None) -> Document | Quarantined:
    url = raw.final_url or raw.uri
    # what the feed states is not searched for again in the page
    named = raw.entry is not None and clean_author(raw.entry.author, None, url) is not None
    try:
        extracted = extract_html(html, url, search_date=stated is None, search_author=not named)
    except ParseLimit as exc:  # set aside whole rather than stored short, summary included
        return Quarantined(raw.source_id, raw.uri, "clean", "parse_limit", exc.detail)
    if extracted is None:
        summary = raw.entry.summary if raw.entry else None
        if summary:
            # The page gave nothing usable; the feed's own summary is the best text there is.
            return Document(raw, summary)
        return Quarantined(raw.source_id, raw.uri, "clean", "no_main_text", "extraction found no main text")
    rejected = low_quality(extracted.text, extracted.cues)
    if rejected is not None:
        return Quarantined(raw.source_id, raw.uri, "clean", "low_quality", rejected)
    return Document(
        raw,
        extracted.text,
        extracted.title,
        extracted.author,
        published=extracted.date,
        date_source=extracted.date_source,
        site_name=extracted.site_name,
        description=extracted.description,
        tags=extracted.tags,
    )


def _with_entry(doc: Document, stated: datetime | None) -> Document:
    """Fill metadata the document lacks from its feed entry; the entry's date, when plausible
    (stated), wins over the page's."""
    entry = doc.raw.entry
    if entry is None:
        return doc
    url = doc.raw.final_url or doc.raw.uri
    published, source = (stated, "feed") if stated else (doc.published, doc.date_source)
    return replace(
        doc,
        title=doc.title or clean_title(entry.title, None, doc.site_name, url),
        author=doc.author or clean_author(entry.author, doc.site_name, url),
        published=published,
        date_source=source,
        description=doc.description or entry.summary,
    )


def repeated_by_source(docs: Sequence[RawDocument]) -> dict[str, frozenset[str]]:
    """Return, per source, the plain-text lines repeated across its files (boilerplate)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for raw in docs:
        if raw.media_type == "text/plain":
            texts[raw.source_id].append(decode_text(raw.body, raw.charset))
    return {sid: repeated_lines(group, min_docs=MIN_SOURCE_DOCS) for sid, group in texts.items()}
