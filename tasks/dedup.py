"""Deduplication: same URL, same GUID, same content, and near-duplicates by MinHash LSH."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from tasks.records import Article, Duplicate, DuplicateKind, Prepared

SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 32  # 32 bands of 4 rows: a pair at Jaccard 0.7 becomes a candidate with p > 0.999
ROWS = PERMUTATIONS // BANDS

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


def minhash(text: str) -> bytes:
    """Return the MinHash signature of text: PERMUTATIONS little-endian uint32 values."""
    hashes = shingle_hashes(text)
    with np.errstate(over="ignore"):
        permuted = (hashes[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    return bytes(permuted.min(axis=0).astype("<u4").tobytes())


def band_hashes(signature: bytes) -> list[int]:
    """Return one signed 64-bit hash per LSH band of a signature (the SQL lookup keys)."""
    width = ROWS * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + signature[band * width : (band + 1) * width], digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]


def similarity(a: bytes, b: bytes) -> float:
    """Return the Jaccard similarity estimated from two signatures."""
    return float(np.mean(np.frombuffer(a, dtype="<u4") == np.frombuffer(b, dtype="<u4")))


@dataclass
class Known:
    """What the warehouse already holds, for the articles of one batch."""

    article_ids: set[str] = field(default_factory=set)
    seen_keys: set[str] = field(default_factory=set)  # raw_uri of stored articles and copies
    urls: dict[str, str] = field(default_factory=dict)  # canonical_url -> article_id
    guids: dict[str, str] = field(default_factory=dict)  # guid -> article_id
    hashes: dict[str, str] = field(default_factory=dict)  # content_hash -> article_id
    signatures: dict[str, bytes] = field(default_factory=dict)  # LSH candidates: id -> signature
    bands: dict[int, set[str]] = field(default_factory=dict)  # band hash -> candidate ids


@dataclass(frozen=True)
class Verdicts:
    """The outcome of deduplicating one batch."""

    new: list[Prepared]
    duplicates: list[Duplicate]
    unchanged: int  # articles stored already, under the same id


def classify(items: Iterable[Prepared], known: Known, *, near_threshold: float) -> Verdicts:
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
        verdict = _first_match(article, item.signature, known, near_threshold)
        known.seen_keys.add(key)
        if verdict is None:
            new.append(item)
            _remember(article, item.signature, known)
            continue
        kind, original, score = verdict
        duplicates.append(Duplicate(key, original, kind, score, article.source_id, key))
    return Verdicts(new, duplicates, unchanged)


def _first_match(
    article: Article, signature: bytes, known: Known, near_threshold: float
) -> tuple[DuplicateKind, str, float] | None:
    if article.article_id in known.article_ids:
        # Same id under another key: the id comes from the canonical URL, else the content.
        return ("url" if article.canonical_url else "content"), article.article_id, 1.0
    if article.canonical_url and article.canonical_url in known.urls:
        return "url", known.urls[article.canonical_url], 1.0
    if article.guid and article.guid in known.guids:
        return "guid", known.guids[article.guid], 1.0
    if article.content_hash in known.hashes:
        return "content", known.hashes[article.content_hash], 1.0
    best = _best_near(signature, known)
    if best is not None and best[1] >= near_threshold:
        return "near", best[0], round(best[1], 4)
    return None


def _best_near(signature: bytes, known: Known) -> tuple[str, float] | None:
    candidates: set[str] = set()
    for band in band_hashes(signature):
        candidates |= known.bands.get(band, set())
    scored = [(cid, similarity(signature, known.signatures[cid])) for cid in sorted(candidates)]
    return max(scored, key=lambda pair: pair[1], default=None)


def _remember(article: Article, signature: bytes, known: Known) -> None:
    known.article_ids.add(article.article_id)
    if article.canonical_url:
        known.urls.setdefault(article.canonical_url, article.article_id)
    if article.guid:
        known.guids.setdefault(article.guid, article.article_id)
    known.hashes.setdefault(article.content_hash, article.article_id)
    known.signatures[article.article_id] = signature
    for band in band_hashes(signature):
        known.bands.setdefault(band, set()).add(article.article_id)


def index_candidates(rows: Iterable[tuple[str, bytes]]) -> tuple[dict[str, bytes], dict[int, set[str]]]:
    """Return the signature and band maps of stored LSH candidates."""
    signatures: dict[str, bytes] = {}
    bands: dict[int, set[str]] = {}
    for article_id, signature in rows:
        signatures[article_id] = bytes(signature)
        for band in band_hashes(signatures[article_id]):
            bands.setdefault(band, set()).add(article_id)
    return signatures, bands


def as_mapping(rows: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """Return key -> article_id from query rows, keeping the first id per key."""
    mapping: dict[str, str] = {}
    for key, value in rows:
        mapping.setdefault(key, value)
    return mapping
