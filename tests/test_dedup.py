"""Deduplication: MinHash similarity and the layered verdicts, within a batch and across runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tasks.dedup import Known, band_hashes, classify, index_candidates, minhash, similarity
from tasks.normalize import article_id, canonical_url, content_hash
from tasks.records import Article, Prepared

from .conftest import SEEDS

NOW = datetime(2026, 11, 22, tzinfo=UTC)
SEED_TEXT = (SEEDS / "000_ad7065b6d2865418.txt").read_text(encoding="utf-8")


def make(
    text: str, *, key: str, url: str | None = None, guid: str | None = None, **fields: object
) -> Prepared:
    """A prepared article of this text under this key; fields override the article's columns."""
    canonical = canonical_url(url)
    digest = content_hash(text)
    article = Article(
        article_id=article_id(canonical, digest),
        source_id="s",
        raw_uri=key,
        url=url,
        canonical_url=canonical,
        guid=guid,
        title=None,
        author=None,
        published_at=None,
        date_source=None,
        language="fr",
        language_prob=1.0,
        text=text,
        word_count=len(text.split()),
        content_hash=digest,
        site_name=None,
        description=None,
        tags=(),
        fetched_at=NOW,
        run_id="r0",
        encoding="utf-8",
        encoding_source="default",
        replaced_chars=0,
    )
    return Prepared(replace(article, **fields), b"", "text/plain", minhash(text))


def edited(text: str) -> str:
    """The same story re-published: another header, one sentence rewritten, a line added."""
    lines = text.split("\n")
    lines[0] = "EXCLUSIF - " + lines[0]
    lines[6] = "Une phrase entièrement réécrite par la rédaction pour cette nouvelle publication."
    return "\n".join(lines + ["Abonnez-vous à notre lettre d'information quotidienne."])


def test_similarity_of_an_edited_copy_is_high_and_of_other_stories_low() -> None:
    others = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[1:]]
    assert similarity(minhash(SEED_TEXT), minhash(edited(SEED_TEXT))) > 0.8
    assert max(similarity(minhash(SEED_TEXT), minhash(o)) for o in others) < 0.1


def test_band_hashes_are_stable_and_signed_64_bit() -> None:
    bands = band_hashes(minhash(SEED_TEXT))
    assert bands == band_hashes(minhash(SEED_TEXT))
    assert len(set(bands)) == len(bands) == 32
    assert all(-(2**63) <= b < 2**63 for b in bands)


def stored(*items: Prepared) -> Known:
    articles = [p.article for p in items]
    known = Known(
        article_ids={a.article_id for a in articles},
        seen_keys={a.raw_uri for a in articles},
        urls={a.canonical_url: a.article_id for a in articles if a.canonical_url},
        guids={a.guid: a.article_id for a in articles if a.guid},
        hashes={a.content_hash: a.article_id for a in articles},
    )
    known.signatures, known.bands = index_candidates((p.article.article_id, p.signature) for p in items)
    return known


ORIGINAL = make(SEED_TEXT, key="https://news.example/a", url="https://news.example/a", guid="g-1")
OTHER = (SEEDS / "004_d9cb10f2baa0daab.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("incoming", "kind"),
    [
        # the very same document again: nothing to do, and no duplicate row
        (ORIGINAL, None),
        # the same URL with tracking parameters: same canonical URL
        (
            make(
                SEED_TEXT,
                key="https://news.example/a?utm_source=rss",
                url="https://news.example/a?utm_source=rss",
            ),
            "url",
        ),
        # another URL, same feed GUID
        (make(OTHER, key="https://mirror.example/b", url="https://mirror.example/b", guid="g-1"), "guid"),
        # another URL, the same text with other spacing and case
        (
            make(
                SEED_TEXT.upper().replace("\n", "\n\n"),
                key="https://copy.example/c",
                url="https://copy.example/c",
            ),
            "content",
        ),
        # a file with exactly the original text (its id comes from the content)
        (make(SEED_TEXT, key="seeds/copy.txt"), "content"),
        # the story re-published with edits
        (make(edited(SEED_TEXT), key="seeds/edited.txt"), "near"),
        # an unrelated story
        (make(OTHER, key="seeds/other.txt"), "new"),
    ],
)
def test_classify_against_stored_articles(incoming: Prepared, kind: str | None) -> None:
    verdicts = classify([incoming], stored(ORIGINAL), near_threshold=0.7)
    if kind is None:
        assert (verdicts.new, verdicts.duplicates, verdicts.unchanged) == ([], [], 1)
    elif kind == "new":
        assert verdicts.new == [incoming] and verdicts.duplicates == []
    else:
        [dup] = verdicts.duplicates
        assert (dup.kind, dup.duplicate_of, dup.duplicate_id) == (
            kind,
            ORIGINAL.article.article_id,
            incoming.article.raw_uri,
        )
        assert verdicts.new == []


def test_classify_resolves_duplicates_inside_one_batch() -> None:
    first = make(SEED_TEXT, key="seeds/a.txt")
    batch = [first, make(SEED_TEXT, key="seeds/b.txt"), make(edited(SEED_TEXT), key="seeds/c.txt")]
    verdicts = classify(batch, Known(), near_threshold=0.7)
    assert verdicts.new == [first]
    assert [(d.duplicate_id, d.kind) for d in verdicts.duplicates] == [
        ("seeds/b.txt", "content"),
        ("seeds/c.txt", "near"),
    ]


def test_classify_below_threshold_is_new() -> None:
    # with a threshold above the measured similarity the edited copy is its own article
    near = make(edited(SEED_TEXT), key="seeds/c.txt")
    verdicts = classify([near], stored(ORIGINAL), near_threshold=0.99)
    assert verdicts.new == [replace(near)]
