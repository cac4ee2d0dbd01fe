"""Loading: deduplicate against the warehouse and write a run's records in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

import warehouse
from tasks.dedup import NearRule, Verdicts, classify
from tasks.deferred import write_deferred
from tasks.fetch.feedhealth import FeedHealth, write_feed_health
from tasks.fetch.listing import Listing, Opened
from tasks.log import run_logger
from tasks.records import Article, Deferred, Prepared, Quarantined, Run, Source
from tasks.report import ARTIFACT_ROWS
from tasks.revisions import Revised, revise, stored_articles
from tasks.staging import read_batch, staged_batches
from warehouse.lake import writing
from warehouse.writer import Warehouse, transient

if TYPE_CHECKING:
    from tasks.stream import Streamed

from tasks.lookup import lookup_known
from tasks.rows import write_articles, write_duplicates, write_quarantine, write_seed_files, write_sources

LOOKUP_CHUNK = 2000  # articles per warehouse lookup: bounds the size of one IN-join


@dataclass
class LoadResult:
    """What one run added to the warehouse: counts, and its first new articles for the UI."""

    new: int = 0
    unchanged: int = 0
    languages: Counter[str] = field(default_factory=Counter)  # of the new articles
    duplicate_kinds: Counter[str] = field(default_factory=Counter)
    first_new: list[Article] = field(default_factory=list)  # ARTIFACT_ROWS at most
    snapshot: int | None = None  # the lake snapshot that holds the run's rows
    revisions: Revised = field(default_factory=Revised)  # stored articles that came again

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
    min_change: float = 0.05,
) -> LoadResult:
    """Deduplicate and write a run's batches, taken one at a time, in a single lake transaction
    (readers see all of the run or none of it); return what was added.

    The index's keys go in a transaction of their own, committed after the lake's: a run killed
    in between leaves the index behind the lake, and the next writer catches it up.
    """
    result = LoadResult()
    with writing(con) as (index, written):
        write_sources(con, sources, run_id, now)
        for batch in batches:
            for start in range(0, len(batch), LOOKUP_CHUNK):
                chunk = batch[start : start + LOOKUP_CHUNK]
                # The lookups see this transaction's own inserts: a copy of an article of an
                # earlier chunk or batch of the run is a duplicate, as across runs.
                _load_chunk(
                    con, index, chunk, result, run_id=run_id, now=now, near=near, min_change=min_change
                )
        write_quarantine(con, quarantined, run_id, now)
        write_feed_health(con, feed_health)
        write_deferred(con, deferred, taken, run_id=run_id, now=now)
    result.snapshot = written.snapshot
    return result


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    index: duckdb.DuckDBPyConnection,
    chunk: Sequence[Prepared],
    result: LoadResult,
    *,
    run_id: str,
    now: datetime,
    near: NearRule,
    min_change: float,
) -> None:
    """Classify and write one chunk of a batch, in the open transactions; count it in result."""
    # A stored article that came again (a page re-fetched, a seed file changed):
    # unchanged, or revised when its text changed enough.
    stored = stored_articles(index, [p.article.raw_uri for p in chunk])
    again = [p for p in chunk if p.article.raw_uri in stored]
    fresh = [p for p in chunk if p.article.raw_uri not in stored]
    verdicts = classify(fresh, lookup_known(index, fresh), rule=near) if fresh else Verdicts([], [], 0)
    write_articles(con, index, verdicts.new)
    write_duplicates(con, index, verdicts.duplicates, run_id, now)
    result.add(verdicts)
    revised = revise(con, index, again, run_id=run_id, now=now, min_change=min_change, reason="refetch")
    result.revisions.add(revised)
    result.unchanged += revised.compared


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
def load(
    store: Warehouse, run: Run, staging: Path, aside: SetAside, near: NearRule, min_change: float = 0.05
) -> LoadResult:
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
            min_change=min_change,
        )
        # After the commit: a run that stops in between only prepares those files again.
        index = warehouse.index_cursor(con)
        try:
            write_seed_files(con, index, staging, run.run_id, run.now)
        finally:
            index.close()
    run_logger().info(
        "loaded %d new articles from %d staged batches; duplicates %s; %d unchanged (%d revised); "
        "%d quarantined",
        result.new,
        len(files),
        dict(result.duplicate_kinds) or "none",
        result.unchanged,
        result.revisions.revised,
        len(aside.quarantined),
    )
    return result
