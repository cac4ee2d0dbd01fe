"""Normalization: text, canonical URLs, dates, ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.language import LanguageGuess
from tasks.normalize import (
    article_id,
    canonical_url,
    content_hash,
    normalize_text,
    plausible_date,
    to_article,
    word_count,
)
from tasks.records import Article, Document, RawDocument

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host case, default port, fragment, tracking parameters all go
        ("HTTPS://Example.COM:443/a/b?utm_source=x&id=3&fbclid=abc#frag", "https://example.com/a/b?id=3"),
        # parameters that carry meaning stay, in a stable order
        ("http://example.com/story?b=2&a=1", "http://example.com/story?a=1&b=2"),
        # a bare host gets its root path
        ("http://example.com", "http://example.com/"),
        # a non-default port is part of the identity
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        # heise's feed tags every link with wt_mc
        (
            "http://www.heise.de/meldung/x-3088438.html?wt_mc=rss.beitrag.atom",
            "http://www.heise.de/meldung/x-3088438.html",
        ),
        # not http(s): no canonical URL
        ("ftp://example.com/file", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO date without time: midnight UTC
        ("2024-12-04", datetime(2024, 12, 4, tzinfo=UTC)),
        # offsets are converted to UTC
        ("2024-12-04T10:00:00+02:00", datetime(2024, 12, 4, 8, tzinfo=UTC)),
        # RFC 822, as RSS writes it
        ("Wed, 04 Dec 2024 10:00:00 GMT", datetime(2024, 12, 4, 10, tzinfo=UTC)),
        # naive datetimes are taken as UTC
        (datetime(2024, 1, 1, 9, 30), datetime(2024, 1, 1, 9, 30, tzinfo=UTC)),
        # far future and before 1990 are implausible
        ("2099-01-01", None),
        ("1970-01-01T00:00:00Z", None),
        # garbage and absence
        ("yesterday-ish", None),
        (None, None),
    ],
)
def test_plausible_date(value: str | datetime | None, expected: datetime | None) -> None:
    assert plausible_date(value, now=NOW) == expected


def test_normalize_text_folds_unicode_space_and_controls() -> None:
    # decomposed é becomes NFC, NUL and zero-width characters go, blank lines go
    raw = "  Caf\u0065\u0301\u00a0 noir\x00\u200b\r\n\r\n\tdeuxième  ligne \n"
    assert normalize_text(raw) == "Café noir\ndeuxième ligne"


def test_content_hash_ignores_case_spacing_and_punctuation_layout() -> None:
    assert content_hash("Hello,  World!\nSecond line.") == content_hash("hello, world! second line.")
    assert content_hash("Hello world") != content_hash("Hello there world")


def test_word_count_keeps_elisions_together() -> None:
    assert word_count("l’IA d'OpenAI est-ce bien 100 %") == 5


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Chinese has no spaces: twelve characters at 1.5 characters a word
        ("市议会周二批准了新的预算", 8),
        # fifteen characters and a figure; full-width punctuation is no word
        ("市议会周二批准了新的预算，共12亿元。", 11),
        # vowel signs and the virama are marks inside a Hindi word, not breaks
        ("हिन्दी भाषा", 2),
        # Thai runs words together: fourteen letters and marks at four a word, rounded
        ("ภาษาไทยง่ายมาก", 4),
        # Korean is spaced: one word per space-separated unit
        ("서울시는 새 예산을 승인했다.", 4),
    ],
)
def test_word_count_estimates_unspaced_scripts(text: str, words: int) -> None:
    assert word_count(text) == words


def test_article_id_prefers_the_canonical_url() -> None:
    digest = content_hash("some text")
    assert article_id("https://example.com/a", digest) == article_id("https://example.com/a", "other")
    assert article_id(None, digest) != article_id("https://example.com/a", digest)
    assert len(article_id(None, digest)) == 32


@pytest.mark.parametrize(
    ("published", "source", "expected"),
    [
        # a stated date keeps its source
        ("2024-05-01T10:00:00+02:00", "page", (datetime(2024, 5, 1, 8, tzinfo=UTC), "page")),
        ("2024-05-01", "url", (datetime(2024, 5, 1, tzinfo=UTC), "url")),
        # a date that is not plausible is dropped, and with it the claim of where it came from
        ("2099-01-01", "feed", (None, None)),
        ("not a date", "page", (None, None)),
        # nothing stated
        (None, None, (None, None)),
    ],
)
def test_to_article_keeps_a_date_source_only_with_its_date(
    published: str | None, source: str | None, expected: tuple[datetime | None, str | None]
) -> None:
    raw = RawDocument("s", "https://example.com/a", b"", "text/html", NOW, final_url="https://example.com/a")
    doc = Document(raw, "Un texte assez long pour un article.", published=published, date_source=source)
    article = to_article(doc, LanguageGuess("fr", 1.0), now=NOW, min_words=1, run_id="r")
    assert isinstance(article, Article)
    assert (article.published_at, article.date_source) == expected
