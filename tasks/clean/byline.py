"""The byline search of trafilatura's metadata (extract_author), in one pass over the page.

trafilatura copies the whole tree, prunes comment sections, dates and figures from the copy,
then runs three XPath queries whose regular expressions libxml2 calls back into Python for, on
every element: 15 ms a page on the corpus, most of a page's metadata. This module finds the
same author in one walk over the original tree: it marks the elements the pruning would remove
and the ones each query would match (the same tests, on the same attributes), then reads the
candidates' text as it would be once pruned, a removed element's tail joined to what precedes
it, as trafilatura's delete_element does. tests/test_byline.py checks that both give the same
author on every test page, and that trafilatura's queries are still the ones copied here.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.utils import trim

LEN_LIMIT = 120  # extract_author's limit on a byline's length

_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    "article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_NAME_CLASS = re.compile("author-?name|AuthorName|authorName")
_BYLINE_ID = re.compile("author|zuozhe|bianji|xiaobian")
_BYLINE_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_ANY_ID = re.compile("[Aa]uthor")
_ANY_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")


def _discarded(el: HtmlElement) -> bool:
    """AUTHOR_DISCARD_XPATHS: comment sections, titles, dates, sidebars, quotes, figures."""
    tag, get = el.tag, el.get
    if tag in ("time", "figure"):
        return True
    if tag not in ("a", "div", "section", "span"):
        return False
    ident, cls = get("id"), get("class")
    return (
        ident == "comments"
        or cls in ("comments", "title", "date")
        or bool(ident and _DISCARD_ID.search(ident))
        or bool(cls and _DISCARD_CLASS.search(cls))
        or "Figure" in (get("data-component") or "")
    )


def _specific(el: HtmlElement) -> bool:
    """AUTHOR_XPATHS[0] but its rel='me' test: author links, names and <author> elements."""
    if el.tag == "author":
        return True
    if el.tag not in ("a", "address", "div", "link", "p", "span", "strong"):
        return False
    get = el.get
    cls = get("class")
    return (
        get("rel") == "author"
        or get("id") == "author"
        or cls == "author"
        or get("itemprop") == "author name"
        or get("data-testid") in ("AuthorCard", "AuthorURL")
        or bool(cls and _NAME_CLASS.search(cls))
    )


def _rel_me(el: HtmlElement, removed: set[HtmlElement]) -> bool:
    """AUTHOR_XPATHS[0]'s rel='me' test: a child element <rel> whose pruned text is 'me'."""
    if el.tag not in ("a", "address", "div", "link", "p", "span", "strong"):
        return False
    return any(
        child.tag == "rel" and child not in removed and "".join(_chunks(child, removed)) == "me"
        for child in el
    )


def _generic(el: HtmlElement) -> bool:
    """AUTHOR_XPATHS[1]: bylines, user names, author ids and classes."""
    if el.tag not in ("a", "div", "h3", "h4", "p", "span"):
        return False
    get = el.get
    ident, cls = get("id"), get("class")
    return (
        cls in ("byline", "username", "byl", "BBL")
        or "author" in (get("itemprop") or "")
        or bool(ident and _BYLINE_ID.search(ident))
        or bool(cls and _BYLINE_CLASS.search(cls))
    )


def _last_resort(el: HtmlElement) -> bool:
    """AUTHOR_XPATHS[2]: any element named like a byline or a writer."""
    get = el.get
    ident, cls = get("id"), get("class")
    return (
        "Byline" in (get("data-component") or "")
        or "author" in (get("itemprop") or "")
        or bool(ident and _ANY_ID.search(ident))
        or bool(cls and _ANY_CLASS.search(cls))
    )


def _chunks(el: HtmlElement, removed: set[HtmlElement]) -> list[str]:
    """Return el.itertext() as it would be with the removed elements deleted, their tails kept:
    delete_element joins a tail to the previous sibling's tail or the parent's text."""
    out: list[str] = []
    text, has = el.text or "", el.text is not None
    for child in el:  # comments and processing instructions too: itertext gives their tails
        if child in removed:
            if child.tail:
                text, has = text + child.tail, True
            continue
        if has:
            out.append(text)
        if isinstance(child.tag, str):
            out += _chunks(child, removed)
        text, has = child.tail or "", child.tail is not None
    if has:
        out.append(text)
    return out


def _last_element(el: HtmlElement) -> HtmlElement | None:
    """Return the last element of el's subtree in document order, or None when it has none."""
    last = None
    for last in el.iterdescendants(etree.Element):  # noqa: B007 - the loop finds the last one
        pass
    return last


def find_author(tree: HtmlElement) -> str | None:
    """Return the author trafilatura's extract_author finds in the tree, without copying it."""
    removed: set[HtmlElement] = set()  # the pruned elements, whose subtrees go with them
    specific: list[HtmlElement] = []
    generic: list[HtmlElement] = []
    last_resort: list[HtmlElement] = []
    with_rel = {rel.getparent() for rel in tree.iter("rel")}
    skip_to: HtmlElement | None = None  # the end of a pruned subtree: elements come in document order
    for el in tree.iter(etree.Element):
        if skip_to is not None:
            if el is skip_to:
                skip_to = None
            continue
        # `.//*` of the first discard query skips the root, which is never a time or a figure
        if el is not tree and _discarded(el):
            removed.add(el)
            skip_to = _last_element(el)
            continue
        if _specific(el) or el in with_rel:
            specific.append(el)
        if _generic(el):
            generic.append(el)
        if _last_resort(el):
            last_resort.append(el)
    for query, candidates in enumerate((specific, generic, last_resort)):
        for el in candidates:
            if query == 0 and not _specific(el) and not _rel_me(el, removed):
                continue
            content = trim(" ".join(_chunks(el, removed)))
            if content and 2 < len(content) < LEN_LIMIT:
                return normalize_authors(None, content)
    return None
