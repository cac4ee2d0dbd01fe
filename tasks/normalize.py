"""Normalization: Unicode, whitespace, canonical URLs, plausible UTC dates, stable ids."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

from tasks.language import LanguageGuess
from tasks.records import Article, Document, Quarantined, stable_id

# Control characters other than newline and tab, NUL included.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")

# Tracking parameters beyond those courlan already strips.
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|"
    r"mkt_tok|oly_anon_id|oly_enc_id|ref_src|vero_id|wt_mc|at_medium|at_campaign|xtor)$",
    re.IGNORECASE,
)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def normalize_text(text: str) -> str:
    """Return text in NFC with control characters out, spaces folded, one paragraph a line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize_field(value: str | None) -> str | None:
    """Return a one-line normalized metadata value, or None when nothing is left."""
    if value is None:
        return None
    value = normalize_text(value).replace("\n", " ")
    return value or None


# Scripts written without spaces between words, with the characters an average word spans:
# Chinese and Japanese words run 1.5 characters, Thai, Lao, Khmer and Myanmar ones about four
# code points with their vowel and tone marks.
_UNSPACED: tuple[tuple[re.Pattern[str], float], ...] = (
    (
        re.compile(
            r"[\u2e80-\u2fdf\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
        ),
        1.5,
    ),
    (re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"), 4.0),
)


_GAPS = re.compile(r"[\s/|·•–—]+")
_ALNUM = re.compile(r"[^\W_]")


def word_count(text: str) -> int:
    """Return the number of words in text, estimated from characters where words are not spaced."""
    words = 0.0
    for chars, per_word in _UNSPACED:
        text, n = chars.subn(" ", text)
        words += n / per_word
    # Splitting on spaces keeps marks inside their word: a Devanagari vowel sign splits nothing.
    words += sum(1 for token in _GAPS.split(text) if _ALNUM.search(token))
    return round(words)


def content_hash(text: str) -> str:
    """Return the sha256 of text folded to lowercase words: copies differing in spacing or case agree."""
    folded = " ".join(_WORD.findall(text.casefold()))
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def canonical_url(url: str | None) -> str | None:
    """Return the canonical form of an http(s) URL, or None when it is not one."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    stripped = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))
    try:
        # courlan lowercases scheme and host, drops default ports and fragments, sorts the query.
        return normalize_url(stripped)
    except (ValueError, TypeError):
        return None


def article_id(canonical: str | None, digest: str) -> str:
    """Return the stable article id: from the canonical URL, else from the content hash."""
    return stable_id("url", canonical) if canonical else stable_id("content", digest)


def plausible_date(value: str | datetime | None, *, now: datetime) -> datetime | None:
    """Return value as an aware UTC datetime, or None when unparseable, before 1990 or in the future."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = _parse_date(value.strip())
        if parsed is None:
            return None
        value = parsed
    when = value if value.tzinfo else value.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    # A day of slack: feeds in time zones ahead of UTC date their entries "tomorrow".
    if when < EARLIEST or (when - now).total_seconds() > 86_400:
        return None
    return when


def _parse_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def to_article(
    doc: Document, guess: LanguageGuess, *, now: datetime, min_words: int, run_id: str
) -> Article | Quarantined:
    """Return the normalized article, or a quarantine record when too little text is left."""
    raw = doc.raw
    text = normalize_text(doc.text)
    words = word_count(text)
    if words < min_words:
        return Quarantined(raw.source_id, raw.uri, "normalize", "too_short", f"{words} words")
    url = raw.final_url
    canonical = canonical_url(url)
    digest = content_hash(text)
    entry = raw.entry
    published = plausible_date(doc.published, now=now)
    return Article(
        article_id=article_id(canonical, digest),
        source_id=raw.source_id,
        raw_uri=raw.uri,
        url=url,
        canonical_url=canonical,
        guid=normalize_field(entry.guid) if entry else None,
        title=normalize_field(doc.title),
        author=normalize_field(doc.author),
        published_at=published,
        date_source=doc.date_source if published else None,
        language=guess.language,
        language_prob=guess.probability,
        text=text,
        word_count=words,
        content_hash=digest,
        fetched_at=raw.fetched_at,
        site_name=normalize_field(doc.site_name),
        description=normalize_field(doc.description),
        tags=tuple(t for t in (normalize_field(tag) for tag in doc.tags) if t),
        run_id=run_id,
        encoding=doc.encoding,
        encoding_source=doc.encoding_source,
        replaced_chars=doc.replaced_chars,
    )
