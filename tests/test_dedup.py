"""Deduplication: MinHash similarity and the layered verdicts, within a batch and across runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tasks.dedup import (
    BANDS,
    Known,
    NearRule,
    band_hashes,
    classify,
    containment,
    estimates,
    index_candidates,
    sign,
    similarity,
)
from tasks.normalize import article_id, canonical_url, content_hash
from tasks.records import Article, Prepared
from tasks.settings import Settings

from .conftest import SEEDS

NOW = datetime(2026, 11, 22, tzinfo=UTC)
SEED_TEXT = (SEEDS / "000_ad7065b6d2865418.txt").read_text(encoding="utf-8")
RULE = NearRule(Settings().near_threshold, Settings().near_containment)  # the shipped rule


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
    return Prepared(replace(article, **fields), b"", "text/plain", *sign(text))


def edited(text: str) -> str:
    """The same story re-published: another header, one sentence rewritten, a line added."""
    lines = text.split("\n")
    lines[0] = "EXCLUSIF - " + lines[0]
    lines[6] = "Une phrase entièrement réécrite par la rédaction pour cette nouvelle publication."
    return "\n".join(lines + ["Abonnez-vous à notre lettre d'information quotidienne."])


def test_similarity_of_an_edited_copy_is_high_and_of_other_stories_low() -> None:
    others = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[1:]]
    signature = sign(SEED_TEXT)[0]
    assert similarity(signature, sign(edited(SEED_TEXT))[0]) > 0.8
    assert max(similarity(signature, sign(o)[0]) for o in others) < 0.1


def test_band_hashes_are_stable_and_signed_64_bit() -> None:
    bands = band_hashes(sign(SEED_TEXT)[0])
    assert bands == band_hashes(sign(SEED_TEXT)[0])
    assert len(set(bands)) == len(bands) == BANDS
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
    known.signatures, known.shingles, known.bands = index_candidates(
        (p.article.article_id, p.signature, p.shingles) for p in items
    )
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
    verdicts = classify([incoming], stored(ORIGINAL), rule=RULE)
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
    verdicts = classify(batch, Known(), rule=RULE)
    assert verdicts.new == [first]
    assert [(d.duplicate_id, d.kind) for d in verdicts.duplicates] == [
        ("seeds/b.txt", "content"),
        ("seeds/c.txt", "near"),
    ]


def test_classify_below_threshold_is_new() -> None:
    # with a threshold above the measured similarity the edited copy is its own article
    near = make(edited(SEED_TEXT), key="seeds/c.txt")
    verdicts = classify([near], stored(ORIGINAL), rule=NearRule(0.99, 2.0))
    assert verdicts.new == [replace(near)]


def first_words(text: str, share: float) -> str:
    """The start of a text, a share of its words, line breaks kept: a truncated re-publication."""
    budget = round(len(text.split()) * share)
    kept = []
    for line in text.split("\n"):
        words = line.split()[: max(0, budget)]
        budget -= len(words)
        kept.append(" ".join(words))
    return "\n".join(kept).strip()


OTHER_LINES = [line for line in OTHER.split("\n") if line.strip()]
SHORT = "\n".join(OTHER_LINES[:5])  # a short article: a title and four paragraphs, 161 words
# A site's template around its stories: breadcrumb, social links, subscription and cookie notices.
HEAD = (
    "Accueil > Actualités > Technologie\n"
    "Suivez-nous sur Facebook, X et LinkedIn. Recevez chaque matin notre lettre d'information gratuite."
)
FOOT = (
    "Cet article vous a plu ? Abonnez-vous pour soutenir une rédaction indépendante et accéder à tous "
    "nos contenus.\nNous utilisons des cookies pour mesurer l'audience et personnaliser les publicités. "
    "En poursuivant votre navigation, vous acceptez leur utilisation. © 2026 Le Quotidien du Numérique, "
    "tous droits réservés. Mentions légales, contact, plan du site."
)
STORIES = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize(
    ("stored_text", "incoming_text"),
    [
        # the story re-published as its first 60 %: Jaccard 0.59, all of it inside the original
        (SEED_TEXT, first_words(SEED_TEXT, 0.6)),
        # the story with another story's paragraphs appended (+70 % words): Jaccard 0.52
        (SEED_TEXT, SEED_TEXT + "\n" + "\n".join(OTHER_LINES[1:10])),
        # a short article without its longest paragraph (a third of it): Jaccard 0.68
        (SHORT, "\n".join(line for i, line in enumerate(OTHER_LINES[:5]) if i != 4)),
    ],
    ids=["truncated", "extended", "paragraph_removed_from_short"],
)
def test_copies_below_the_old_jaccard_threshold_are_near_duplicates(
    stored_text: str, incoming_text: str
) -> None:
    original = make(stored_text, key="seeds/original.txt")
    incoming = make(incoming_text, key="seeds/copy.txt")
    [dup] = classify([incoming], stored(original), rule=RULE).duplicates
    assert (dup.kind, dup.duplicate_of) == ("near", original.article.article_id)
    assert dup.similarity < 0.7  # what the old rule required
    # which test fired is recorded: a containment figure only when the Jaccard test did not
    assert (dup.containment is None) == (dup.similarity >= RULE.threshold)


def test_a_truncated_copy_arriving_first_in_a_batch_takes_the_full_story_as_its_copy() -> None:
    # the first 55 %: Jaccard 0.50, below the threshold, and wholly inside the full story
    short = make(first_words(STORIES[1], 0.55), key="seeds/a_teaser.txt")
    full = make(STORIES[1], key="seeds/b_full.txt")
    verdicts = classify([short, full], Known(), rule=RULE)
    assert verdicts.new == [short]
    [dup] = verdicts.duplicates
    assert (dup.duplicate_id, dup.duplicate_of, dup.kind) == (
        "seeds/b_full.txt",
        short.article.article_id,
        "near",
    )
    assert dup.containment is not None and dup.containment >= RULE.containment


@pytest.mark.parametrize(
    "incoming_text",
    [
        # other stories of the same site, in the same template
        *(HEAD + "\n" + story + "\n" + FOOT for story in STORIES[1:]),
        # a page cleaned down to the site's template: all of it inside the stored page
        HEAD + "\n" + FOOT,
        # the template and one line ("page not found")
        HEAD + "\nLa page que vous cherchez n'existe plus.\n" + FOOT,
    ],
)
def test_pages_of_one_site_sharing_its_template_stay_apart(incoming_text: str) -> None:
    original = make(HEAD + "\n" + SEED_TEXT + "\n" + FOOT, key="https://site.example/a")
    incoming = make(incoming_text, key="https://site.example/b")
    verdicts = classify([incoming], stored(original), rule=RULE)
    assert (verdicts.new, verdicts.duplicates) == ([incoming], [])


@pytest.mark.parametrize(
    ("jaccard", "contained", "smaller", "expected"),
    [
        (0.65, None, 100, (True, None)),  # above the Jaccard threshold: no containment figure
        (0.5, 1.0, 100, (True, 1.0)),  # wholly inside the other text
        (0.5, None, 100, (False, None)),  # a shingle count unknown (stored before counts were kept)
        (0.2, 1.0, 100, (False, None)),  # wholly inside, but a fifth of the other: below the floor
        (0.5, 1.0, 15, (False, None)),  # too few shingles to tell a copy from a line of template
        (0.5, 0.67, 100, (False, None)),  # a third of it elsewhere
    ],
)
def test_near_rule(
    jaccard: float, contained: float | None, smaller: int, expected: tuple[bool, float | None]
) -> None:
    assert NearRule(0.6, 0.9).match(jaccard, contained, smaller) == expected


def test_containment_is_estimated_from_the_signatures() -> None:
    words = SEED_TEXT.split()
    start, end = " ".join(words[: len(words) * 3 // 5]), " ".join(words[len(words) * 2 // 5 :])
    (whole, size), (part, part_size), (tail, _) = sign(SEED_TEXT), sign(start), sign(end)
    # a text wholly inside another: every permutation whose minimum is the part's is shared
    assert containment(part, whole) == 1.0
    assert estimates(whole, size, part, part_size)[1:] == (1.0, part_size)
    # the start and the end share a third of the start's words
    assert containment(part, tail) == pytest.approx(1 / 3, abs=0.15)
    assert containment(part, sign(OTHER)[0]) < 0.05
