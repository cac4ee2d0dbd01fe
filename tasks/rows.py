"""Writing a run's rows: Arrow tables inserted into the lake's tables, and the dedup keys into the
writer's index, keyed so re-runs add none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tasks.dedup import band_hashes
from tasks.fetch.files import staged_seed_files
from tasks.records import Duplicate, Prepared, Quarantined, Source
from tasks.staging import ARTICLE_SCHEMA as SCHEMA_ARTICLES
from tasks.staging import article_columns
from warehouse import merge
from warehouse.search import index_articles


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    if rows.num_rows == 0:
        return
    # Registering again replaces the view, so a failed insert leaves nothing stale behind.
    con.register("incoming", rows)
    columns = ", ".join(f'"{c}"' for c in rows.column_names)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming")
    con.unregister("incoming")


def _ts(values: Sequence[datetime | None]) -> pa.Array:
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def write_articles(
    con: duckdb.DuckDBPyConnection, index: duckdb.DuckDBPyConnection, items: Sequence[Prepared]
) -> None:
    """Insert new articles with their raw documents and signatures; their keys and LSH bands
    into the index."""
    articles = [p.article for p in items]
    table = pa.table(article_columns(articles), SCHEMA_ARTICLES)
    _insert(con, "articles", table)
    index_articles(con, table)  # their search postings, in the same lake transaction
    _insert(
        index,
        "article_keys",
        table.select(["article_id", "raw_uri", "canonical_url", "guid", "content_hash", "fetched_at"]),
    )
    _insert(
        con,
        "raw_documents",
        pa.table(
            {
                "raw_uri": [a.raw_uri for a in articles],
                "article_id": [a.article_id for a in articles],
                "media_type": [p.media_type for p in items],
                "final_url": [a.url for a in articles],
                "fetched_at": _ts([a.fetched_at for a in articles]),
                "body_zlib": pa.array([p.body_zlib for p in items], pa.binary()),
                "encoding": [a.encoding for a in articles],
                "encoding_source": [a.encoding_source for a in articles],
                "replaced_chars": pa.array([a.replaced_chars for a in articles], pa.int64()),
            }
        ),
    )
    signatures = pa.table(
        {
            "article_id": [a.article_id for a in articles],
            "signature": pa.array([p.signature for p in items], pa.binary()),
            "shingles": pa.array([p.shingles for p in items], pa.int32()),
        }
    )
    _insert(con, "signatures", signatures)
    _insert(index, "signature_keys", signatures)
    bands = [(b, p.article.article_id) for p in items for b in band_hashes(p.signature)]
    _insert(
        index,
        "lsh_bands",
        pa.table(
            {
                "band_hash": pa.array([b for b, _ in bands], pa.int64()),
                "article_id": [i for _, i in bands],
            }
        ),
    )


def write_duplicates(
    con: duckdb.DuckDBPyConnection,
    index: duckdb.DuckDBPyConnection,
    duplicates: Sequence[Duplicate],
    run_id: str,
    now: datetime,
) -> None:
    """Insert the duplicate decisions of a run, and their keys into the index."""
    # The lookups count a key already stored as unchanged: each duplicate_id is new here.
    _insert(
        con,
        "duplicates",
        pa.table(
            {
                "duplicate_id": [d.duplicate_id for d in duplicates],
                "duplicate_of": [d.duplicate_of for d in duplicates],
                "kind": [d.kind for d in duplicates],
                "similarity": [d.similarity for d in duplicates],
                "containment": pa.array([d.containment for d in duplicates], pa.float64()),
                "source_id": [d.source_id for d in duplicates],
                "detected_at": _ts([now] * len(duplicates)),
                "run_id": [run_id] * len(duplicates),
            }
        ),
    )
    _insert(index, "duplicate_keys", pa.table({"duplicate_id": [d.duplicate_id for d in duplicates]}))


def write_quarantine(
    con: duckdb.DuckDBPyConnection, items: Sequence[Quarantined], run_id: str, now: datetime
) -> None:
    """Upsert quarantined items: one row per (uri, stage, reason), counting each sighting."""
    # One statement must not conflict with itself: DuckDB would keep a row silently.
    unique = list({(q.uri, q.stage, q.reason): q for q in items}.values())
    merge(
        con,
        "quarantine",
        pa.table(
            {
                "run_id": [run_id] * len(unique),
                "source_id": [q.source_id for q in unique],
                "uri": [q.uri for q in unique],
                "stage": [q.stage for q in unique],
                "reason": [q.reason for q in unique],
                "detail": [q.detail[:2000] for q in unique],
                "at": _ts([now] * len(unique)),
                "last_run_id": [run_id] * len(unique),
                "last_seen_at": _ts([now] * len(unique)),
            }
        ),
        keys=("uri", "stage", "reason"),
        update="last_run_id = incoming.last_run_id, last_seen_at = incoming.last_seen_at, "
        "detail = incoming.detail, times_seen = quarantine.times_seen + 1",
    )


def write_sources(
    con: duckdb.DuckDBPyConnection, sources: Sequence[Source], run_id: str, now: datetime
) -> None:
    """Upsert the run's sources."""
    unique = list({s.source_id: s for s in sources}.values())
    merge(
        con,
        "sources",
        pa.table(
            {
                "source_id": [s.source_id for s in unique],
                "kind": [s.kind for s in unique],
                "uri": [s.uri for s in unique],
                "first_seen_at": _ts([now] * len(unique)),
                "last_run_id": [run_id] * len(unique),
            }
        ),
        keys=("source_id",),
        update="last_run_id = incoming.last_run_id",
    )


def write_seed_files(
    con: duckdb.DuckDBPyConnection,
    index: duckdb.DuckDBPyConnection,
    staging: Path,
    run_id: str,
    now: datetime,
) -> None:
    """Record the fingerprints of the run's seed files that are stored now, as articles or
    duplicates: the next run skips those files while they stay the same."""
    staged = staged_seed_files(staging)
    index.register("staged_files", pa.table({"raw_uri": pa.array([f.raw_uri for f in staged], pa.string())}))
    stored = {
        row[0]
        for row in index.execute(
            "SELECT raw_uri FROM staged_files WHERE raw_uri IN "
            "(SELECT raw_uri FROM article_keys UNION ALL SELECT duplicate_id FROM duplicate_keys)"
        ).fetchall()
    }
    index.unregister("staged_files")
    seen = [f for f in staged if f.raw_uri in stored]
    merge(
        con,
        "seed_files",
        pa.table(
            {
                "raw_uri": [f.raw_uri for f in seen],
                "size": pa.array([f.size for f in seen], pa.int64()),
                "mtime_ns": pa.array([f.mtime_ns for f in seen], pa.int64()),
                "content_hash": [f.content_hash for f in seen],
                "run_id": [run_id] * len(seen),
                "stored_at": _ts([now] * len(seen)),
            }
        ),
        keys=("raw_uri",),
        update="size = incoming.size, mtime_ns = incoming.mtime_ns, content_hash = incoming.content_hash, "
        "run_id = incoming.run_id, stored_at = incoming.stored_at",
    )
