"""Cleaning: main text and metadata out of HTML pages and plain-text files."""

from __future__ import annotations

import codecs
from collections import defaultdict
from collections.abc import Sequence

from tasks.clean.boilerplate import clean_plain_text, repeated_lines
from tasks.clean.html import decode_html, extract_html
from tasks.clean.metadata import clean_author, clean_title
from tasks.clean.quality import low_quality
from tasks.records import Document, Quarantined, RawDocument

MIN_SOURCE_DOCS = 3  # lines repeated across at least this many files of a source are boilerplate


def decode_text(body: bytes, declared: str | None = None) -> str:
    """Return plain-text bytes decoded: BOM, then UTF-8, the declared charset, else cp1252."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    candidates = ["utf-8"] + ([declared] if declared else []) + ["cp1252"]
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    # Latin-1 maps every byte: the last resort never fails.
    return body.decode("latin-1")


def clean_document(raw: RawDocument, repeated: frozenset[str] = frozenset()) -> Document | Quarantined:
    """Return the cleaned document, or a quarantine record when no main text is left."""
    if raw.media_type == "text/html":
        return _clean_html(raw)
    cleaned = clean_plain_text(decode_text(raw.body, raw.charset), repeated=repeated)
    if cleaned is None:
        return Quarantined(
            raw.source_id, raw.uri, "clean", "no_main_text", "nothing left after boilerplate removal"
        )
    return _with_entry(Document(raw, cleaned.body, cleaned.title, cleaned.author))


def _clean_html(raw: RawDocument) -> Document | Quarantined:
    html, _encoding = decode_html(raw.body, raw.charset)
    extracted = extract_html(html, raw.final_url or raw.uri)
    if extracted is None:
        summary = raw.entry.summary if raw.entry else None
        if summary:
            # The page gave nothing usable; the feed's own summary is the best text there is.
            return _with_entry(Document(raw, summary))
        return Quarantined(raw.source_id, raw.uri, "clean", "no_main_text", "extraction found no main text")
    rejected = low_quality(extracted.text, extracted.cues)
    if rejected is not None:
        return Quarantined(raw.source_id, raw.uri, "clean", "low_quality", rejected)
    return _with_entry(
        Document(
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
    )


def _with_entry(doc: Document) -> Document:
    """Fill metadata the document lacks from its feed entry; the entry's date wins over the page's."""
    entry = doc.raw.entry
    if entry is None:
        return doc
    url = doc.raw.final_url or doc.raw.uri
    published, source = (entry.published, "feed") if entry.published else (doc.published, doc.date_source)
    return Document(
        doc.raw,
        doc.text,
        doc.title or clean_title(entry.title, None, doc.site_name, url),
        doc.author or clean_author(entry.author, doc.site_name, url),
        published=published,
        date_source=source,
        site_name=doc.site_name,
        description=doc.description or entry.summary,
        tags=doc.tags,
    )


def repeated_by_source(docs: Sequence[RawDocument]) -> dict[str, frozenset[str]]:
    """Return, per source, the plain-text lines repeated across its files (boilerplate)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for raw in docs:
        if raw.media_type == "text/plain":
            texts[raw.source_id].append(decode_text(raw.body, raw.charset))
    return {sid: repeated_lines(group, min_docs=MIN_SOURCE_DOCS) for sid, group in texts.items()}
