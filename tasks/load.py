"""Loading: deduplicate against the warehouse and write a run's records in one transaction."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

import warehouse
from tasks.dedup import Known, NearRule, Verdicts, as_mapping, band_hashes, classify, index_candidates
from tasks.deferred import write_deferred
from tasks.fetch.feedhealth import FeedHealth, write_feed_health
from tasks.fetch.files import staged_seed_files
from tasks.fetch.listing import Listing, Opened
from tasks.log import run_logger
from tasks.records import Article, Deferred, Duplicate, Prepared, Quarantined, Run, Source
from tasks.report import ARTIFACT_ROWS
from tasks.staging import ARTICLE_SCHEMA as SCHEMA_ARTICLES
from tasks.staging import article_columns, read_batch, staged_batches
from warehouse.writer import Warehouse, transient

if TYPE_CHECKING:
    from tasks.stream import Streamed

LOOKUP_CHUNK = 2000  # articles per warehouse lookup: bounds the size of one IN-join


@dataclass
class LoadResult:
    """What one run added to the warehouse: counts, and its first new articles for the UI."""

    new: int = 0
    unchanged: int = 0
    languages: Counter[str] = field(default_factory=Counter)  # of the new articles
    duplicate_kinds: Counter[str] = field(default_factory=Counter)
    first_new: list[Article] = field(default_factory=list)  # ARTIFACT_ROWS at most

    @property
    def duplicates(self) -> int:
        return self.duplicate_kinds.total()

    def add(self, verdicts: Verdicts) -> None:
        """Count one chunk's verdicts; keep the first new articles, not all of them."""
        self.new += len(verdicts.new)
        self.unchanged += verdicts.unchanged
        self.languages.update(p.article.language for p in verdicts.new)
        self.duplicate_kinds.update(d.kind for d in verdicts.duplicates)
        room = ARTIFACT_ROWS - len(self.first_new)
        self.first_new += [p.article for p in verdicts.new[: max(0, room)]]


def lookup_known(con: duckdb.DuckDBPyConnection, items: Sequence[Prepared]) -> Known:
    """Return what the warehouse already holds that could match these articles."""
    articles = [p.article for p in items]
    keys = pa.table(
        {
            "raw_uri": [a.raw_uri for a in articles],
            "article_id": [a.article_id for a in articles],
            "canonical_url": [a.canonical_url for a in articles],
            "guid": [a.guid for a in articles],
            "content_hash": [a.content_hash for a in articles],
        }
    )
    bands = pa.table(
        {"band_hash": pa.array(sorted({b for p in items for b in band_hashes(p.signature)}), pa.int64())}
    )
    con.register("batch_keys", keys)
    con.register("batch_bands", bands)
    seen = con.execute(
        "SELECT raw_uri FROM articles WHERE raw_uri IN (SELECT raw_uri FROM batch_keys) "
        "UNION SELECT duplicate_id FROM duplicates "
        "WHERE duplicate_id IN (SELECT raw_uri FROM batch_keys)"
    ).fetchall()
    ids = con.execute(
        "SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM batch_keys)"
    ).fetchall()
    known = Known(
        article_ids={r[0] for r in ids},
        seen_keys={r[0] for r in seen},
        urls=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT canonical_url, article_id FROM articles WHERE canonical_url IN "
                    "(SELECT canonical_url FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
        guids=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT guid, article_id FROM articles WHERE guid IN "
                    "(SELECT guid FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
        hashes=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT content_hash, article_id FROM articles WHERE content_hash IN "
                    "(SELECT content_hash FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
    )
    # Two indexed lookups, not one join: a join of lsh_bands with signatures scans both tables.
    rows = con.execute(
        "SELECT article_id FROM lsh_bands WHERE band_hash IN (SELECT band_hash FROM batch_bands)"
    ).fetchall()
    candidate_ids = pa.table({"article_id": pa.array(sorted({r[0] for r in rows}), pa.string())})
    con.register("batch_candidates", candidate_ids)
    candidates = con.execute(
        "SELECT article_id, signature, shingles FROM signatures "
        "WHERE article_id IN (SELECT article_id FROM batch_candidates)"
    ).fetchall()
    con.unregister("batch_candidates")
    con.unregister("batch_keys")
    con.unregister("batch_bands")
    known.signatures, known.shingles, known.bands = index_candidates(candidates)
    return known


def _pairs(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(sql).fetchall()]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, tail: str = "") -> None:
    if rows.num_rows == 0:
        return
    # Registering again replaces the view, so a failed insert leaves nothing stale behind.
    con.register("incoming", rows)
    columns = ", ".join(f'"{c}"' for c in rows.column_names)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming {tail}")
    con.unregister("incoming")


def _ts(values: Sequence[datetime | None]) -> pa.Array:
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def write_articles(con: duckdb.DuckDBPyConnection, items: Sequence[Prepared]) -> None:
    """Insert new articles with their raw documents, signatures and LSH bands."""
    articles = [p.article for p in items]
    _insert(con, "articles", pa.table(article_columns(articles), SCHEMA_ARTICLES))
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
                "body_zlib": pa.array([zlib.compress(p.raw_body, 6) for p in items], pa.binary()),
                "encoding": [a.encoding for a in articles],
                "encoding_source": [a.encoding_source for a in articles],
                "replaced_chars": pa.array([a.replaced_chars for a in articles], pa.int64()),
            }
        ),
        "ON CONFLICT DO NOTHING",
    )
    _insert(
        con,
        "signatures",
        pa.table(
            {
                "article_id": [a.article_id for a in articles],
                "signature": pa.array([p.signature for p in items], pa.binary()),
                "shingles": pa.array([p.shingles for p in items], pa.int32()),
            }
        ),
    )
    bands = [(b, p.article.article_id) for p in items for b in band_hashes(p.signature)]
    _insert(
        con,
        "lsh_bands",
        pa.table(
            {
                "band_hash": pa.array([b for b, _ in bands], pa.int64()),
                "article_id": [i for _, i in bands],
            }
        ),
    )


def write_duplicates(
    con: duckdb.DuckDBPyConnection, duplicates: Sequence[Duplicate], run_id: str, now: datetime
) -> None:
    """Insert the duplicate decisions of a run."""
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
        "ON CONFLICT DO NOTHING",
    )


def write_quarantine(
    con: duckdb.DuckDBPyConnection, items: Sequence[Quarantined], run_id: str, now: datetime
) -> None:
    """Upsert quarantined items: one row per (uri, stage, reason), counting each sighting."""
    # One statement must not conflict with itself: DuckDB would keep a row silently.
    unique = list({(q.uri, q.stage, q.reason): q for q in items}.values())
    _insert(
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
        "ON CONFLICT (uri, stage, reason) DO UPDATE SET last_run_id = excluded.last_run_id, "
        "last_seen_at = excluded.last_seen_at, detail = excluded.detail, "
        "times_seen = quarantine.times_seen + 1",
    )


def write_sources(
    con: duckdb.DuckDBPyConnection, sources: Sequence[Source], run_id: str, now: datetime
) -> None:
    """Upsert the run's sources."""
    unique = list({s.source_id: s for s in sources}.values())
    _insert(
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
        "ON CONFLICT (source_id) DO UPDATE SET last_run_id = excluded.last_run_id",
    )


def load_batches(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    batches: Iterable[Sequence[Prepared]],
    quarantined: Sequence[Quarantined],
    sources: Sequence[Source],
    now: datetime,
    near: NearRule,
    feed_health: Sequence[FeedHealth] = (),
    deferred: Sequence[Deferred] = (),
    taken: Collection[str] = (),
) -> LoadResult:
    """Deduplicate and write a run's batches, taken one at a time, in a single transaction;
    return what was added."""
    result = LoadResult()
    con.execute("BEGIN TRANSACTION")
    try:
        write_sources(con, sources, run_id, now)
        for batch in batches:
            for start in range(0, len(batch), LOOKUP_CHUNK):
                chunk = batch[start : start + LOOKUP_CHUNK]
                # The lookups see this transaction's own inserts: a copy of an article of an
                # earlier chunk or batch of the run is a duplicate, as across runs.
                verdicts: Verdicts = classify(chunk, lookup_known(con, chunk), rule=near)
                write_articles(con, verdicts.new)
                write_duplicates(con, verdicts.duplicates, run_id, now)
                result.add(verdicts)
        write_quarantine(con, quarantined, run_id, now)
        write_feed_health(con, feed_health)
        write_deferred(con, deferred, taken, run_id=run_id, now=now)
        con.execute("COMMIT")
    except BaseException:
        warehouse.rollback(con)
        raise
    return result


def write_seed_files(con: duckdb.DuckDBPyConnection, staging: Path, run_id: str, now: datetime) -> None:
    """Record the fingerprints of the run's seed files that are stored now, as articles or
    duplicates: the next run skips those files while they stay the same."""
    seen = staged_seed_files(staging)
    _insert(
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
        "WHERE raw_uri IN (SELECT raw_uri FROM articles UNION ALL SELECT duplicate_id FROM duplicates) "
        "ON CONFLICT (raw_uri) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "content_hash = excluded.content_hash, run_id = excluded.run_id, stored_at = excluded.stored_at",
    )


@dataclass(frozen=True, slots=True)
class SetAside:
    """What a run records besides its articles: its sources, quarantined items and feed states."""

    sources: list[Source]
    quarantined: list[Quarantined]
    feed_health: list[FeedHealth]
    deferred: list[Deferred]  # left for a later run
    taken: frozenset[str]  # the waiting items this run took: forgotten unless deferred again

    @classmethod
    def of(cls, sources: list[Source], opened: Opened, listing: Listing, streamed: Streamed) -> SetAside:
        """Return what a run's listing and stream set aside or left for later."""
        return cls(
            sources=sources,
            quarantined=listing.feed_faults + listing.item_faults + streamed.fetch_faults + streamed.dropped,
            feed_health=listing.feed_health,
            deferred=listing.deferred + streamed.deferred,
            taken=frozenset(d.uri for d in opened.waiting),
        )


@task(
    name="deduplicate-and-load",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_jitter_factor=0.5,
    retry_condition_fn=transient,
)
def load(store: Warehouse, run: Run, staging: Path, aside: SetAside, near: NearRule) -> LoadResult:
    """Deduplicate the run's staged batches against the warehouse and load them in one
    transaction, reading one batch file at a time."""
    files = staged_batches(staging)
    # One writer at a time: DuckDB refuses a second process at once instead of waiting.
    with store.locked(), store.connect() as con:
        result = load_batches(
            con,
            run_id=run.run_id,
            batches=(read_batch(f) for f in files),
            quarantined=aside.quarantined,
            sources=aside.sources,
            now=run.now,
            near=near,
            feed_health=aside.feed_health,
            deferred=aside.deferred,
            taken=aside.taken,
        )
        # After the commit: a run that stops in between only prepares those files again.
        write_seed_files(con, staging, run.run_id, run.now)
    run_logger().info(
        "loaded %d new articles from %d staged batches; duplicates %s; %d unchanged; %d quarantined",
        result.new,
        len(files),
        dict(result.duplicate_kinds) or "none",
        result.unchanged,
        len(aside.quarantined),
    )
    return result
