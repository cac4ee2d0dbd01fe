"""Deduplication: same URL, same GUID, same content, and near-duplicates by MinHash LSH."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from tasks.records import Duplicate, DuplicateKind, Prepared

SHINGLE_WORDS = 5
PERMUTATIONS = 128
# 64 bands of 2 rows: a pair at Jaccard 0.35 (a copy cut to 35 % of the words) becomes a
# candidate with p > 0.999; 32 bands of 4 rows proposed a pair at 0.5 (cut to half) with p = 0.87.
BANDS = 64
ROWS = PERMUTATIONS // BANDS  # two 32-bit values: exactly one 64-bit band key

_WORD = re.compile(r"\w+")
_rng = np.random.default_rng(20231121)
# Multiply-shift hashing: (a*x + b) mod 2^64, high 32 bits; a odd.
_A = (_rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)).astype(np.uint64)
_B = _rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)


def shingle_hashes(text: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    """Return the 32-bit hashes of the text's word k-shingles (one shingle for shorter texts)."""
    words = _WORD.findall(text.casefold())
    grams = {" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}
    digests = [hashlib.blake2b(g.encode("utf-8"), digest_size=4).digest() for g in grams]
    return np.frombuffer(b"".join(digests), dtype="<u4").astype(np.uint64)


def sign(text: str) -> tuple[bytes, int]:
    """Return the MinHash signature of text (PERMUTATIONS little-endian uint32 values) and
    its number of distinct shingles."""
    hashes = shingle_hashes(text)
    with np.errstate(over="ignore"):
        permuted = (hashes[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    return bytes(permuted.min(axis=0).astype("<u4").tobytes()), len(hashes)


def band_hashes(signature: bytes) -> list[int]:
    """Return one signed 64-bit key per LSH band of a signature (the SQL lookup keys).

    A key is its band's 8 bytes read big-endian, minus 2^63: MinHash values are uniform
    already, and migration 004 computes the same keys in SQL from stored signatures.
    """
    unsigned = np.frombuffer(signature, dtype=">u8").astype(np.uint64)
    # Flipping the top bit of u and reading it signed gives u - 2^63.
    keys: list[int] = (unsigned ^ np.uint64(1 << 63)).view(np.int64).tolist()
    return keys


def similarity(a: bytes, b: bytes) -> float:
    """Return the Jaccard similarity estimated from two signatures."""
    return float(np.mean(np.frombuffer(a, dtype="<u4") == np.frombuffer(b, dtype="<u4")))


def containment(small: bytes, large: bytes) -> float:
    """Return the estimated share of one text's shingles found in another, from signatures.

    Where a permutation's smallest value over both texts is the first text's, it is either
    shared (equal values) or the first text's own: the shared share of those estimates the
    containment, exactly 1 for a text wholly inside the other, whatever the size ratio.
    """
    a, b = np.frombuffer(small, dtype="<u4"), np.frombuffer(large, dtype="<u4")
    shared, own = int(np.count_nonzero(a == b)), int(np.count_nonzero(a < b))
    return shared / (shared + own) if shared + own else 0.0


def estimates(
    signature: bytes, size: int, other: bytes, other_size: int | None
) -> tuple[float, float | None, int]:
    """Return the estimated Jaccard similarity of two texts, the containment of the one with
    fewer shingles in the other (None when a shingle count is unknown), and that count."""
    jaccard = similarity(signature, other)
    if other_size is None:
        return jaccard, None, size
    if size <= other_size:
        return jaccard, containment(signature, other), size
    return jaccard, containment(other, signature), other_size


@dataclass(frozen=True, slots=True)
class NearRule:
    """When an LSH candidate is a near-duplicate: by estimated Jaccard similarity, or by
    estimated containment of the smaller text in the larger (a truncated or extended copy)."""

    threshold: float  # estimated Jaccard from which a candidate is a near-duplicate
    containment: float  # estimated containment from which it is one; above 1 turns the test off
    # Floors of the containment test, chosen in benchmarks/dedup.py. Jaccard: the estimate rests
    # on the shared values (at Jaccard 0.01, one), and pages cleaned down to their site's template
    # sat wholly inside other pages of the site at 0.35-0.40 (a copy cut to 50 % is at 0.5).
    # Shingles: a floor high enough to keep those template pages out (121) loses short truncated
    # copies, so this one only keeps out texts shorter than an article.
    min_jaccard: float = 0.45
    min_shingles: int = 20

    def match(self, jaccard: float, contained: float | None, smaller: int) -> tuple[bool, float | None]:
        """Return whether a candidate is a near-duplicate, from estimates() of the pair, and the
        containment estimate when only the containment test found it."""
        if jaccard >= self.threshold:
            return True, None
        if contained is None or smaller < self.min_shingles or jaccard < self.min_jaccard:
            return False, None
        return (True, contained) if contained >= self.containment else (False, None)


@dataclass
class Known:
    """What the warehouse already holds, for the articles of one batch."""

    article_ids: set[str] = field(default_factory=set)
    seen_keys: set[str] = field(default_factory=set)  # raw_uri of stored articles and copies
    urls: dict[str, str] = field(default_factory=dict)  # canonical_url -> article_id
    guids: dict[str, str] = field(default_factory=dict)  # guid -> article_id
    hashes: dict[str, str] = field(default_factory=dict)  # content_hash -> article_id
    signatures: dict[str, bytes] = field(default_factory=dict)  # LSH candidates: id -> signature
    shingles: dict[str, int] = field(default_factory=dict)  # id -> shingle count, where known
    bands: dict[int, set[str]] = field(default_factory=dict)  # band hash -> candidate ids


@dataclass(frozen=True)
class Verdicts:
    """The outcome of deduplicating one batch."""

    new: list[Prepared]
    duplicates: list[Duplicate]
    unchanged: int  # articles stored already, under the same id


def classify(items: Iterable[Prepared], known: Known, *, rule: NearRule) -> Verdicts:
    """Split a batch into new articles and duplicates of stored or earlier-in-batch ones."""
    new: list[Prepared] = []
    duplicates: list[Duplicate] = []
    unchanged = 0
    for item in items:
        article = item.article
        key = article.raw_uri
        if key in known.seen_keys:
            unchanged += 1
            continue
        verdict = _first_match(item, known, rule)
        known.seen_keys.add(key)
        if verdict is None:
            new.append(item)
            _remember(item, known)
            continue
        kind, original, score, contained = verdict
        duplicates.append(Duplicate(key, original, kind, score, article.source_id, key, contained))
    return Verdicts(new, duplicates, unchanged)


def _first_match(
    item: Prepared, known: Known, rule: NearRule
) -> tuple[DuplicateKind, str, float, float | None] | None:
    article = item.article
    if article.article_id in known.article_ids:
        # Same id under another key: the id comes from the canonical URL, else the content.
        return ("url" if article.canonical_url else "content"), article.article_id, 1.0, None
    if article.canonical_url and article.canonical_url in known.urls:
        return "url", known.urls[article.canonical_url], 1.0, None
    if article.guid and article.guid in known.guids:
        return "guid", known.guids[article.guid], 1.0, None
    if article.content_hash in known.hashes:
        return "content", known.hashes[article.content_hash], 1.0, None
    near = _best_near(item, known, rule)
    if near is None:
        return None
    original, score, contained = near
    return "near", original, round(score, 4), None if contained is None else round(contained, 4)


def _best_near(item: Prepared, known: Known, rule: NearRule) -> tuple[str, float, float | None] | None:
    """Return the most similar candidate that passes either test, with its Jaccard estimate and,
    when only the containment test passed, its containment estimate."""
    candidates: set[str] = set()
    for band in band_hashes(item.signature):
        candidates |= known.bands.get(band, set())
    best: tuple[str, float, float | None] | None = None
    for cid in sorted(candidates):
        score, estimate, smaller = estimates(
            item.signature, item.shingles, known.signatures[cid], known.shingles.get(cid)
        )
        near, contained = rule.match(score, estimate, smaller)
        if near and (best is None or score > best[1]):
            best = (cid, score, contained)
    return best


def _remember(item: Prepared, known: Known) -> None:
    article = item.article
    known.article_ids.add(article.article_id)
    if article.canonical_url:
        known.urls.setdefault(article.canonical_url, article.article_id)
    if article.guid:
        known.guids.setdefault(article.guid, article.article_id)
    known.hashes.setdefault(article.content_hash, article.article_id)
    known.signatures[article.article_id] = item.signature
    known.shingles[article.article_id] = item.shingles
    for band in band_hashes(item.signature):
        known.bands.setdefault(band, set()).add(article.article_id)


def index_candidates(
    rows: Iterable[tuple[str, bytes, int | None]],
) -> tuple[dict[str, bytes], dict[str, int], dict[int, set[str]]]:
    """Return the signature, shingle-count and band maps of stored LSH candidates."""
    signatures: dict[str, bytes] = {}
    shingles: dict[str, int] = {}
    bands: dict[int, set[str]] = {}
    for article_id, signature, count in rows:
        signatures[article_id] = bytes(signature)
        if count is not None:  # NULL: stored before counts were kept, so Jaccard only
            shingles[article_id] = count
        for band in band_hashes(signatures[article_id]):
            bands.setdefault(band, set()).add(article_id)
    return signatures, shingles, bands


def as_mapping(rows: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """Return key -> article_id from query rows, keeping the first id per key."""
    mapping: dict[str, str] = {}
    for key, value in rows:
        mapping.setdefault(key, value)
    return mapping
