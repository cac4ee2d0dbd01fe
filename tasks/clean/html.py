"""Decoding of fetched HTML bytes and extraction of their main text and metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_catstags,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import is_dubious_html, repair_faulty_html

from tasks.clean.byline import find_author
from tasks.clean.dates import page_date, stated_date
from tasks.clean.metadata import clean_author, clean_title, headline
from tasks.clean.quality import PageCues, page_cues
from tasks.decode import decode

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
# text would depend on the pages extracted before it. Most of the cost is metadata:
# trafilatura's date search (htmldate) is not run at all, its date being a guess from
# copyright lines and free text (tasks/clean/dates.py reads only stated dates), and neither is
# its license search; page_metadata does the rest of its extract_metadata. On the 941 corpus
# pages that leaves every field as it was and saves 5.3 ms of CPU a page (htmldate 3.4, license
# 1.9); a feed's date spares our own search too (0.7 ms), its author the byline search (16 ms
# a page when run; it runs where the meta tags name no author, 77 % of the pages).
EXTRACT_OPTIONS: dict[str, object] = {"include_comments": False}

_HTML_TAG = re.compile(r"<html\b[^>]*>", re.I)
_LANG_ATTR = re.compile(r"""(?<![\w-])lang\s*=\s*["']?\s*([A-Za-z]{2,3})(?![A-Za-z])""", re.I)
# trafilatura's own parser options, with libxml2's limits lifted (depth 256 -> 2048, a text
# node 10 MB -> 1 GB): the fetch's byte cap (NEWSFLOW_MAX_BYTES) bounds the input instead.
_PARSER_OPTIONS: dict[str, Any] = {
    "collect_ids": False,
    "default_doctype": False,
    "encoding": "utf-8",
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": True,
}

_ADVICE = re.compile(r",?\s*(?:use|try) XML_PARSE_HUGE.*", re.S)  # the option is on already


class ParseLimit(Exception):
    """The HTML parser cut the page short at one of its limits (nesting depth, node size)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def decode_html(body: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) of an HTML page, as tasks.decode.decode chooses it."""
    decoded = decode(body, declared_charset)
    return decoded.text, decoded.encoding


_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.I)


def parse_html(html: str) -> HtmlElement | None:
    """Return the page's tree as trafilatura.load_html builds it, within the byte cap rather
    than libxml2's default limits; None when it is no HTML. Raise ParseLimit when a limit
    still cut it: a page stored shorter than it is would pass for whole."""
    beginning = html[:50].lower()
    # libxml2 drops what follows an early </body></html> (a template closing before the article):
    # the parser closes both at the end anyway. 1 of 2,487 corpus pages changes: 38 -> 806 words.
    html = _END_TAGS.sub("", html)
    markup = repair_faulty_html(html, beginning).encode("utf-8", errors="surrogatepass")
    parser = lxml.html.HTMLParser(**_PARSER_OPTIONS)  # one per page: its error log is the page's
    try:
        tree = lxml.html.fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError):  # nothing to parse
        return None
    cut = next((e for e in parser.error_log if e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT), None)
    if cut is not None:
        raise ParseLimit(f"{_ADVICE.sub('', cut.message).strip()} (line {cut.line})")
    # what load_html rejects: no <html> at the start and a single block, not a document
    if is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


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


def _with_json_ld(tree: HtmlElement, meta: Document) -> Document:
    """Return meta completed from the page's JSON-LD, or as it was when trafilatura's reader fails."""
    try:
        return extract_meta_json(tree, meta)
    # trafilatura's extract_metadata guards this call alike ("bugs in json_metadata.py"): odd
    # JSON-LD shapes raise anything, and the page is no worse for keeping its meta tags' fields
    except Exception:
        return meta


def page_metadata(tree: HtmlElement, url: str | None, *, search_author: bool = True) -> Document:
    """Return trafilatura's metadata of a parsed page (title, author, URL, site name, description,
    categories, tags) as its extract_metadata finds them, without the date search and the license,
    which nothing here uses, and without the byline search when search_author is off."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # as trafilatura: one word in an author tag is a handle or the site
    meta = _with_json_ld(tree, meta)
    meta.title = meta.title or extract_title(tree)
    if not meta.author and search_author:
        meta.author = find_author(tree)  # trafilatura's byline search, in one pass
    meta.url = meta.url or extract_url(tree, url)
    site = (meta.sitename or extract_sitename(tree) or "").lstrip("@")
    if site and "." not in site and not site[0].isupper():
        site = site.title()
    if not site and meta.url and (host := META_URL.match(meta.url)):
        site = host[1]
    meta.sitename = site or None
    meta.categories = meta.categories or extract_catstags("category", tree)
    meta.tags = meta.tags or extract_catstags("tag", tree)
    meta.clean_and_trim()
    return meta


def extract_html(
    html: str, url: str | None = None, *, search_date: bool = True, search_author: bool = True
) -> HtmlExtract | None:
    """Return main text and metadata of an HTML page, or None when no main text is found;
    raise ParseLimit when the parser cut the page. Without search_date (the feed states a
    trustworthy date) the page's date is not looked for and left None; without search_author
    (the feed names the author) neither is a byline in the page's text, only its metadata."""
    tree = parse_html(html)
    if tree is None:
        return None
    # read before extraction, which prunes a copy of the tree it is given
    cues = page_cues(tree)
    heading = headline(tree)
    date, date_source = stated_date(page_date(tree), url) if search_date else (None, None)
    meta = page_metadata(tree, url, search_author=search_author)
    document = trafilatura.bare_extraction(tree, url=url, **cast(dict[str, Any], EXTRACT_OPTIONS))
    text = (document.text or "").strip() if isinstance(document, Document) else ""
    if not isinstance(document, Document) or not text:
        return None
    # trafilatura splits site taxonomy into categories and free tags; downstream wants one list
    tags = tuple(dict.fromkeys([*(meta.categories or []), *(meta.tags or [])]))
    site_name = meta.sitename
    return HtmlExtract(
        text=text,
        title=clean_title(meta.title, heading, site_name, url),
        author=clean_author(meta.author, site_name, url),
        date=date,
        date_source=date_source,
        site_name=site_name,
        description=meta.description or None,
        tags=tags,
        # trafilatura 2.x sets Document.language only when filtering by target_language
        language=document.language or _declared_language(html),
        cues=cues,
    )
