"""Revisions: a stored article that comes again (re-fetched, or re-extracted from its raw
document) with a changed text keeps its newest text in `articles` and the earlier one in
`article_versions`; its dedup keys in the writer's index follow the new text.

How much a text changed is 1 - Jaccard of the two texts' sets of word 5-shingles (the shingles
deduplication signs), computed exactly from both texts. One changed word alters up to five
shingles on each side, about 10 / (n + 5) of an n-shingle text: under 5 % past ~200 words, so a
ticking "updated 5 minutes ago" line, a view counter or a typo fix is not a revision, while a
changed or added sentence (~20 words) of an article up to ~900 words is (2 x 24 / (n + 24)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import duckdb
import pyarrow as pa

from tasks.dedup import band_hashes, shingle_hashes
from tasks.records import Prepared
from warehouse.search import reindex_articles

RevisionReason = Literal["refetch", "reextract"]


def change_size(old: str, new: str) -> float:
    """Return the share of the two texts' distinct word 5-shingles they do not share."""
    a = set(shingle_hashes(old).tolist())
    b = set(shingle_hashes(new).tolist())
    union = len(a | b)
    return 1.0 - len(a & b) / union if union else 0.0


@dataclass
class Revised:
    """What comparing stored articles with their new texts did."""

    compared: int = 0  # stored articles that came again
    revised: int = 0  # their text changed by min_change or more: a version kept, the text replaced
    minor: int = 0  # changed, but less: the stored text kept
    article_ids: list[str] = field(default_factory=list)  # the revised ones

    def add(self, other: Revised) -> None:
        self.compared += other.compared
        self.revised += other.revised
        self.minor += other.minor
        self.article_ids += other.article_ids

    @property
    def unchanged(self) -> int:
        """Return the compared articles whose stored text stays (same, or changed too little)."""
        return self.compared - self.revised


def stored_articles(index: duckdb.DuckDBPyConnection, raw_uris: Sequence[str]) -> set[str]:
    """Return the keys among raw_uris stored as articles (in the writer's index)."""
    if not raw_uris:
        return set()
    index.register("revision_keys", pa.table({"raw_uri": pa.array(list(raw_uris), pa.string())}))
    try:
        rows = index.execute(
            "SELECT raw_uri FROM article_keys WHERE raw_uri IN (SELECT raw_uri FROM revision_keys)"
        ).fetchall()
    finally:
        index.unregister("revision_keys")
    return {r[0] for r in rows}


# The columns a new text replaces; the article's identity (id, key, URLs, GUID, source) and its
# publication date stay as first stored.
_REPLACED = (
    "title",
    "author",
    "language",
    "language_prob",
    "text",
    "word_count",
    "content_hash",
    "site_name",
    "description",
    "tags",
    "fetched_at",
    "run_id",
    "encoding",
    "encoding_source",
    "replaced_chars",
)


@dataclass(frozen=True, slots=True)
class _Stored:
    article_id: str
    raw_uri: str
    title: str | None
    text: str
    word_count: int
    content_hash: str
    fetched_at: datetime
    run_id: str


def _update(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, key: str, columns: Sequence[str]
) -> None:
    if rows.num_rows == 0:
        return
    con.register("revised_rows", rows)
    try:
        sets = ", ".join(f'"{c}" = revised_rows."{c}"' for c in columns)
        con.execute(f"UPDATE {table} SET {sets} FROM revised_rows WHERE {table}.{key} = revised_rows.{key}")
    finally:
        con.unregister("revised_rows")


def revise(
    con: duckdb.DuckDBPyConnection,
    index: duckdb.DuckDBPyConnection,
    items: Sequence[Prepared],
    *,
    run_id: str,
    now: datetime,
    min_change: float,
    reason: RevisionReason,
) -> Revised:
    """Compare stored articles (by raw_uri) with their new texts, in the open lake and index
    transactions: where the text changed by min_change or more, keep the stored text as a
    version and replace the article's text, raw document (for a re-fetch), signature and keys.

    A re-fetch moves a kept article's fetched_at (and its key's) to the new fetch, so a feed
    entry's `updated` date older than that does not send the page again.
    """
    latest = {p.article.raw_uri: p for p in items}  # one outcome per key
    if not latest:
        return Revised()
    con.register("revision_keys", pa.table({"raw_uri": pa.array(list(latest), pa.string())}))
    try:
        rows = con.execute(
            "SELECT article_id, raw_uri, title, text, word_count, content_hash, fetched_at, run_id "
            "FROM articles WHERE raw_uri IN (SELECT raw_uri FROM revision_keys)"
        ).fetchall()
    finally:
        con.unregister("revision_keys")
    stored = {r[1]: _Stored(*r) for r in rows}
    result = Revised(compared=len(items))
    revised: list[tuple[_Stored, Prepared, float]] = []
    kept: list[tuple[_Stored, Prepared]] = []
    for key, item in latest.items():
        old = stored.get(key)
        if old is None:
            continue  # not stored after all: counted as compared, nothing to change
        if old.content_hash == item.article.content_hash:
            kept.append((old, item))
            continue
        size = change_size(old.text, item.article.text)
        if size >= min_change:
            revised.append((old, item, size))
        else:
            result.minor += 1
            kept.append((old, item))
    kept = [(old, p) for old, p in kept if p.article.fetched_at > old.fetched_at]
    if reason == "refetch" and kept:
        touched = pa.table(
            {
                "article_id": [old.article_id for old, _ in kept],
                "fetched_at": pa.array([p.article.fetched_at for _, p in kept], pa.timestamp("us", tz="UTC")),
            }
        )
        _update(con, "articles", touched, "article_id", ["fetched_at"])
        _update(index, "article_keys", touched, "article_id", ["fetched_at"])
    if not revised:
        return result
    result.revised = len(revised)
    result.article_ids = [old.article_id for old, _, _ in revised]
    _write_revisions(con, index, revised, run_id=run_id, now=now, reason=reason)
    return result


def _write_revisions(
    con: duckdb.DuckDBPyConnection,
    index: duckdb.DuckDBPyConnection,
    revised: Sequence[tuple[_Stored, Prepared, float]],
    *,
    run_id: str,
    now: datetime,
    reason: RevisionReason,
) -> None:
    from tasks.staging import ARTICLE_SCHEMA, article_columns

    ids = [old.article_id for old, _, _ in revised]
    con.register("revised_ids", pa.table({"article_id": pa.array(ids, pa.string())}))
    try:
        last = dict(
            con.execute(
                "SELECT article_id, max(version) FROM article_versions "
                "WHERE article_id IN (SELECT article_id FROM revised_ids) GROUP BY article_id"
            ).fetchall()
        )
    finally:
        con.unregister("revised_ids")
    ts = pa.timestamp("us", tz="UTC")
    versions = pa.table(
        {
            "article_id": ids,
            "version": pa.array(
                [int(last.get(old.article_id) or 0) + 1 for old, _, _ in revised], pa.int32()
            ),
            "raw_uri": [old.raw_uri for old, _, _ in revised],
            "title": [old.title for old, _, _ in revised],
            "text": [old.text for old, _, _ in revised],
            "word_count": pa.array([old.word_count for old, _, _ in revised], pa.int32()),
            "content_hash": [old.content_hash for old, _, _ in revised],
            "fetched_at": pa.array([old.fetched_at for old, _, _ in revised], ts),
            "run_id": [old.run_id for old, _, _ in revised],
            "change_size": [round(size, 4) for _, _, size in revised],
            "replaced_at": pa.array([now] * len(revised), ts),
            "replaced_by": [run_id] * len(revised),
            "reason": [reason] * len(revised),
        }
    )
    columns = ", ".join(f'"{c}"' for c in versions.column_names)
    con.register("new_versions", versions)
    try:
        con.execute(f"INSERT INTO article_versions ({columns}) SELECT {columns} FROM new_versions")
    finally:
        con.unregister("new_versions")
    # The new texts, under the stored ids.
    new = [replace(p.article, article_id=old.article_id, run_id=run_id) for old, p, _ in revised]
    articles = pa.table(article_columns(new), ARTICLE_SCHEMA)
    _update(con, "articles", articles.select(["article_id", *_REPLACED]), "article_id", _REPLACED)
    reindex_articles(con, articles)  # the search postings follow the new text
    refetched = [(old, p) for old, p, _ in revised if p.body_zlib]
    if reason == "refetch" and refetched:
        _update(
            con,
            "raw_documents",
            pa.table(
                {
                    "raw_uri": [old.raw_uri for old, _ in refetched],
                    "media_type": [p.media_type for _, p in refetched],
                    "final_url": [p.article.url for _, p in refetched],
                    "fetched_at": pa.array([p.article.fetched_at for _, p in refetched], ts),
                    "body_zlib": pa.array([p.body_zlib for _, p in refetched], pa.binary()),
                    "encoding": [p.article.encoding for _, p in refetched],
                    "encoding_source": [p.article.encoding_source for _, p in refetched],
                    "replaced_chars": pa.array([p.article.replaced_chars for _, p in refetched], pa.int64()),
                }
            ),
            "raw_uri",
            [
                "media_type",
                "final_url",
                "fetched_at",
                "body_zlib",
                "encoding",
                "encoding_source",
                "replaced_chars",
            ],
        )
    signatures = pa.table(
        {
            "article_id": ids,
            "signature": pa.array([p.signature for _, p, _ in revised], pa.binary()),
            "shingles": pa.array([p.shingles for _, p, _ in revised], pa.int32()),
        }
    )
    _update(con, "signatures", signatures, "article_id", ["signature", "shingles"])
    # The index: the article's content hash, signature and band keys follow the new text.
    _update(
        index,
        "article_keys",
        articles.select(["article_id", "content_hash", "fetched_at"]),
        "article_id",
        ["content_hash", "fetched_at"],
    )
    _update(index, "signature_keys", signatures, "article_id", ["signature", "shingles"])
    index.register("revised_ids", pa.table({"article_id": pa.array(ids, pa.string())}))
    try:
        index.execute("DELETE FROM lsh_bands WHERE article_id IN (SELECT article_id FROM revised_ids)")
    finally:
        index.unregister("revised_ids")
    bands = [(b, i) for i, (_, p, _) in zip(ids, revised, strict=True) for b in band_hashes(p.signature)]
    index.register(
        "revised_bands",
        pa.table(
            {"band_hash": pa.array([b for b, _ in bands], pa.int64()), "article_id": [i for _, i in bands]}
        ),
    )
    try:
        index.execute("INSERT INTO lsh_bands SELECT band_hash, article_id FROM revised_bands")
    finally:
        index.unregister("revised_bands")
