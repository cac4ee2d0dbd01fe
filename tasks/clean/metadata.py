"""Metadata people can trust: titles without the site's name, authors that name people."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

# " • " is not in the usual list but is as common as " · " on blogs (measured on wcxb-dev).
SEPARATORS = (" - ", " | ", " – ", " — ", " :: ", " · ", " » ", " • ")
_SEPARATOR = re.compile("|".join(re.escape(s) for s in SEPARATORS))
_WORD = re.compile(r"\w+")
MAX_HEADLINE_WORDS = 25  # a longer <h1> is a teaser paragraph, not the headline

# UTF-8 read as cp1252 or latin-1: a lead byte shown as Â-ô followed by a continuation byte shown
# as a C1 control or a cp1252 symbol, or an accented capital stranded after lowercase letters
# (its continuation byte was a control character that got dropped: "JaroÅ" for "Jaroń").
_CP1252 = "€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ"
_CP1252_BYTE = {ch: bytes([0x80 + i]) for i, ch in enumerate(_CP1252)}
_MOJIBAKE = re.compile(rf"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252}]|(?<=[a-z])[ÃÂÅÄ](?![a-zà-ÿ])")

# Second-level labels under a country code that are not the site's own name (co.uk, com.au).
_SECOND_LEVEL = frozenset(["ac", "co", "com", "edu", "gov", "net", "org", "or", "ne", "go"])
_NOT_A_NAME = frozenset(["www", "m", "amp", "blog", "blogs", "news", "en", "de", "fr", "es", "it"])

# Words that are never part of a person's name in an author field: page furniture, placeholders
# and social networks that extractors pick up from bylines and share bars.
_NOT_AUTHOR = frozenset(
    [
        *("published", "updated", "posted", "written", "by", "author", "authors", "name", "undefined"),
        *("null", "none", "unknown", "admin", "administrator", "webmaster", "www", "com", "http", "https"),
        *("facebook", "twitter", "instagram", "linkedin", "pinterest", "youtube", "tiktok", "share"),
    ]
)
_BYLINE = re.compile(r"^(?:authors?|(?:[\w’' ]{0,40}\s)?by)\s*:?\s+", re.I)
_HANDLE = re.compile(r"^@|^\w*[_\d]\w*$")
MAX_AUTHOR_WORDS = 6  # per name; longer strings are sentences or menus the extractor caught


def repair_mojibake(text: str) -> str | None:
    """Return text with UTF-8-read-as-latin-1 undone, unchanged when clean, None when beyond repair."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        repaired = b"".join(_CP1252_BYTE.get(ch) or ch.encode("latin-1") for ch in text).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return None if _MOJIBAKE.search(repaired) else repaired


def _compact(text: str) -> str:
    return "".join(_WORD.findall(text.casefold())).replace("_", "")


def _host_labels(url: str | None) -> list[str]:
    """Return the labels of the URL's host that can name the site: no www, no public suffix."""
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return []
    labels = host.split(".")[:-1]
    if len(labels) >= 2 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    return [_compact(label) for label in labels if label not in _NOT_A_NAME]


def names_site(segment: str, site_name: str | None, url: str | None, *, loose: bool = False) -> bool:
    """Return True when the text is the site's name or host ("Harvard Health" ~ health.harvard.edu)."""
    # loose also takes a segment holding the name or a host label ("LogRocket Blog"), or held in the name
    seg = _compact(segment)
    if not seg:
        return False
    site = _compact(site_name or "")
    if site and (seg == site or (loose and len(site) >= 4 and (site in seg or seg in site))):
        return True
    labels = _host_labels(url)
    if not labels:
        return False
    # "Move.org" names move.org; "Harvard Health" names health.harvard.edu
    spelled = {"".join(labels), "".join(reversed(labels)), *labels}
    if seg in spelled or seg.removesuffix("com").removesuffix("org") in spelled:
        return True
    words = [w for w in _WORD.findall(segment.casefold()) if w not in ("the", "of", "and")]
    if words and all(w in labels for w in words):
        return True
    return loose and any(len(label) >= 4 and label in seg for label in labels)


def strip_site_name(title: str, site_name: str | None, url: str | None) -> str:
    """Return the title without trailing or leading segments that name the site."""
    while True:
        separators = list(_SEPARATOR.finditer(title))
        if not separators:
            return title
        first, last = separators[0], separators[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :]
        if head and names_site(tail, site_name, url, loose=True):
            title = head
            continue
        # a leading segment must be the name itself: "GitHub Actions explained" is a headline
        lead, rest = title[: first.start()], title[first.end() :].strip()
        if rest and names_site(lead, site_name, url):
            title = rest
            continue
        return title


def headline(tree: HtmlElement) -> str | None:
    """Return the text of the page's one <h1>, or None when it has none or several."""
    texts = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    texts = [text for text in texts if text]
    return texts[0] if len(texts) == 1 else None


def clean_title(
    title: str | None, headline: str | None, site_name: str | None, url: str | None
) -> str | None:
    """Return the article's title: the page's headline, else its title without the site's name."""
    # a title with a byte beyond repair is still the best title there is
    page_title = (repair_mojibake(title) or title) if title else None
    page_title = strip_site_name(page_title, site_name, url) if page_title else None
    head = (repair_mojibake(headline) or headline) if headline else None
    if not head or len(head.split()) > MAX_HEADLINE_WORDS or names_site(head, site_name, url):
        return page_title
    head = strip_site_name(head, site_name, url)
    # a headline in capitals is mostly styled so; the page title keeps the words' own case
    if page_title and head.isupper() and page_title.casefold().startswith(head.casefold()):
        return page_title[: len(head)]
    return head


def clean_author(author: str | None, site_name: str | None, url: str | None) -> str | None:
    """Return the author's names, or None when the string names no person (host, URL, handle, furniture)."""
    repaired = repair_mojibake(author) if author else None
    if not repaired:
        return None
    first, *others = (" ".join(part.split()).strip(" ,") for part in repaired.split(";"))
    first = _BYLINE.sub("", first)
    # furniture in the first name means the extractor read a menu or a share bar, not a byline
    if not _plausible_name(first):
        return None
    names = [n for n in (first, *others) if _plausible_name(n) and not _is_site(n, site_name, url)]
    return "; ".join(names) or None


def _plausible_name(name: str) -> bool:
    words = _WORD.findall(name.casefold())
    if not words or len(name.split()) > MAX_AUTHOR_WORDS or any(w in _NOT_AUTHOR for w in words):
        return False
    return not ("/" in name or "©" in name or _HANDLE.match(name) or ("." in name and " " not in name))


def _is_site(name: str, site_name: str | None, url: str | None) -> bool:
    """Return True when an author string is the site: its name, its host, or its brand plus a word."""
    seg = _compact(name)
    if site_name and seg == _compact(site_name):
        return True
    if " " not in name.strip():
        return names_site(name, None, url)
    # "Jane Doe" on janedoe.com is a person writing on her own site; "Acme Editorial Team" on
    # acme.com is the site again
    labels = _host_labels(url)
    joined = "".join(labels)
    return seg != joined and any(
        len(label) >= 4 and label in seg and label != seg for label in (*labels, joined)
    )
