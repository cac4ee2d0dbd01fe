"""Decoding of fetched HTML bytes and extraction of their main text and metadata."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, cast

import trafilatura
from charset_normalizer import from_bytes
from trafilatura.settings import Document

from tasks.clean.metadata import clean_author, clean_title, headline, page_date, stated_date
from tasks.clean.quality import PageCues, page_cues

# Chosen by F1, precision breaking ties, with `python -m benchmarks.quality --candidates`:
# all 990 corpus pages, snippet scoring of Document.text, trafilatura 2.3.1, pages per
# CPU-second with metadata (speed varies about 10% between runs):
#   candidate                   P       R       F1      pages/s
#   defaults                    0.9053  0.9427  0.9236  13.2
#   favor_precision             0.9233  0.9183  0.9208  12.4
#   favor_recall                0.8965  0.9397  0.9176  15.4
#   include_comments=False      0.9064  0.9454  0.9255  13.8  <- chosen
#   include_tables=False        0.9059  0.9332  0.9194  12.6
#   deduplicate=True            0.9044  0.9360  0.9199  12.4
#   no comments+precision       0.9234  0.9197  0.9216  12.9
#   no comments+recall          0.8977  0.9424  0.9195  17.4
#   no comments+no tables       0.9070  0.9349  0.9207  14.5
#   no comments+deduplicate     0.9055  0.9387  0.9218  12.7
#   fast=True                   0.9068  0.9302  0.9184  15.8
# deduplicate would be ruled out anyway: its LRU cache is process-global, so a page's
# text would depend on the pages extracted before it. Most of the cost is metadata: on a
# 248-page sample, date_extraction_params={"extensive_search": False} cut CPU time by 37%.
# trafilatura's date is not used (it guesses from copyright lines and free text, see
# tasks/clean/metadata.py), so its search is kept to the cheap one.
EXTRACT_OPTIONS: dict[str, object] = {"include_comments": False}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG Encoding Standard: these labels name a superset in browsers, so bytes a page
# "declares" as latin-1 are in practice windows-1252 (smart quotes in 0x80-0x9F).
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    # a bare utf-16 label without BOM means little-endian in browsers
    "utf-16": "utf-16-le",
}

# WHATWG labels Python's codec registry does not know.
_EXTRA_LABELS = {
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "x-gbk": "gbk",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "x-cp1252": "cp1252",
}

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.I)
_HTML_TAG = re.compile(r"<html\b[^>]*>", re.I)
_LANG_ATTR = re.compile(r"""(?<![\w-])lang\s*=\s*["']?\s*([A-Za-z]{2,3})(?![A-Za-z])""", re.I)


def _codec(label: str | None) -> str | None:
    """Return the Python codec a browser would use for an encoding label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _EXTRA_LABELS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # the registry also holds bytes-to-bytes codecs (rot13, base64) that bytes.decode refuses
    if not getattr(info, "_is_text_encoding", True):
        return None
    return _WHATWG_SUPERSETS.get(info.name, info.name)


def decode_html(body: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) as a browser decodes: BOM, HTTP charset, <meta>, detector, cp1252."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name

    # a declaration wins even if a few bytes contradict it: browsers show U+FFFD there,
    # and such pages are mostly right (4 of the corpus's 894 UTF-8 pages mix in latin-1)
    encoding = _codec(declared_charset)
    if encoding is None:
        match = _META_CHARSET.search(body[:2048])
        encoding = _codec(match.group(1).decode("ascii")) if match else None
        # a <meta> cannot honestly declare UTF-16: it was readable as ASCII
        if encoding is not None and encoding.startswith("utf-16"):
            encoding = "utf-8"
    if encoding is not None:
        return body.decode(encoding, errors="replace"), encoding

    # valid UTF-8 beyond ASCII is almost never an accident, and this skips the detector
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body).best()
    encoding = _codec(best.encoding) if best is not None else None
    if encoding is None:
        encoding = "cp1252"
    return body.decode(encoding, errors="replace"), encoding


@dataclass(frozen=True, slots=True)
class HtmlExtract:
    """Main text and metadata of one HTML page."""

    text: str  # main text, paragraphs joined with "\n"
    title: str | None
    author: str | None
    date: str | None  # ISO 8601 as the page's metadata or URL states it, never a guess
    date_source: str | None  # 'page' or 'url' with a date, else None
    site_name: str | None
    description: str | None
    tags: tuple[str, ...]
    language: str | None  # page-declared language if trafilatura reports it
    cues: PageCues  # what the quality gates look at besides the text


def _declared_language(html: str) -> str | None:
    """Return the primary subtag of the <html lang> attribute, or None when absent."""
    tag = _HTML_TAG.search(html)
    match = _LANG_ATTR.search(tag.group(0)) if tag else None
    return match.group(1).lower() if match else None


def extract_html(html: str, url: str | None = None) -> HtmlExtract | None:
    """Return main text and metadata of an HTML page, or None when no main text is found."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    # read before extraction, which prunes the tree it is given
    cues = page_cues(tree)
    heading, stated = headline(tree), page_date(tree)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        # a new dict each call: trafilatura writes the page's URL into it
        date_extraction_params={"extensive_search": False, "original_date": True},
        **cast(dict[str, Any], EXTRACT_OPTIONS),
    )
    text = (document.text or "").strip() if isinstance(document, Document) else ""
    if not isinstance(document, Document) or not text:
        return None
    # trafilatura splits site taxonomy into categories and free tags; downstream wants one list
    tags = tuple(dict.fromkeys([*(document.categories or []), *(document.tags or [])]))
    site_name = document.sitename or None
    date, date_source = stated_date(stated, url)
    return HtmlExtract(
        text=text,
        title=clean_title(document.title, heading, site_name, url),
        author=clean_author(document.author, site_name, url),
        date=date,
        date_source=date_source,
        site_name=site_name,
        description=document.description or None,
        tags=tags,
        # trafilatura 2.x sets Document.language only when filtering by target_language
        language=document.language or _declared_language(html),
        cues=cues,
    )
