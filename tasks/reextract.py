"""Re-extraction: the stored raw documents cleaned again with the current cleaner, without
refetching; an article whose text changed is revised as a re-fetch would revise it."""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from tasks.clean import MIN_SOURCE_DOCS, decode_text
from tasks.clean.stories import repeated_lines
from tasks.prepare import PrepareConfig, prepare_all
from tasks.records import EntryMeta, Quarantined, RawDocument
from tasks.revisions import Revised, revise
from tasks.rows import write_quarantine
from warehouse.lake import writing

CHUNK = 200  # raw documents read, cleaned and compared at a time


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stored documents to re-extract: fetched since a time, of one source (URI or name)."""

    since: datetime | None = None
    source: str | None = None


@dataclass
class ReextractSummary:
    """What a re-extraction did with each stored document it read: each ends changed (revised),
    unchanged (the stored text stays: same, or changed less than the threshold) or quarantined
    now (the cleaner sets it aside today; the stored article stays)."""

    reextracted: int = 0
    changed: int = 0
    unchanged: int = 0
    quarantined: int = 0
    minor: int = 0  # of unchanged: the text changed, by less than NEWSFLOW_REVISION_MIN_CHANGE
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    changed_ids: list[str] = field(default_factory=list)  # the first revised articles

    @property
    def unaccounted(self) -> int:
        return self.reextracted - self.changed - self.unchanged - self.quarantined

    def counts(self) -> dict[str, Any]:
        """Return the runs.counts JSON: the ingest keys too, so run_history and the accounting
        checks read a re-extraction like any run (a changed article is unchanged-and-revised)."""
        return {
            "kind": "reextract",
            "reextracted": self.reextracted,
            "changed": self.changed,
            "minor": self.minor,
            "discovered": self.reextracted,
            "new": 0,
            "duplicates": 0,
            "unchanged": self.changed + self.unchanged,
            "quarantined": self.quarantined,
            "deferred": 0,
            "documents": self.reextracted,
            "revised": self.changed,
            "quarantine_reasons": self.quarantine_reasons,
        }


def _where(selection: Selection) -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if selection.since is not None:
        clauses.append("r.fetched_at >= ?")
        params.append(selection.since)
    if selection.source:
        clauses.append(
            "(s.uri = ? OR a.source_id = ? OR s.uri IN (SELECT uri FROM subscriptions WHERE name = ?))"
        )
        params += [selection.source] * 3
    return " AND ".join(clauses), params


_FROM = (
    "FROM raw_documents AS r JOIN articles AS a USING (raw_uri) "
    "LEFT JOIN sources AS s ON s.source_id = a.source_id"
)


def selected(con: duckdb.DuckDBPyConnection, selection: Selection) -> list[tuple[str, str]]:
    """Return the (raw_uri, source_id) of the stored documents selected, by source then key."""
    where, params = _where(selection)
    rows = con.execute(
        f"SELECT r.raw_uri, a.source_id {_FROM} WHERE {where} ORDER BY a.source_id, r.raw_uri", params
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _documents(con: duckdb.DuckDBPyConnection, uris: Sequence[str]) -> list[RawDocument]:
    """Return the stored raw documents of these keys as the fetch handed them on, with the feed
    entry's fields the article kept as the cleaner's fallback."""
    con.register("reextract_keys", pa.table({"raw_uri": pa.array(list(uris), pa.string())}))
    try:
        rows = con.execute(
            "SELECT a.source_id, r.raw_uri, r.body_zlib, r.media_type, r.fetched_at, r.encoding, "
            "r.encoding_source, r.final_url, a.guid, a.title, a.author, a.published_at, a.date_source "
            "FROM raw_documents AS r JOIN articles AS a USING (raw_uri) "
            "WHERE r.raw_uri IN (SELECT raw_uri FROM reextract_keys) ORDER BY r.raw_uri"
        ).fetchall()
    finally:
        con.unregister("reextract_keys")
    docs = []
    for sid, uri, body, media, fetched, enc, enc_source, final, guid, title, author, published, dated in rows:
        entry = None
        if final is not None:  # a page: its feed entry may have given the title, author or date
            entry = EntryMeta(
                link=final,
                guid=guid,
                title=title,
                author=author,
                published=published if dated == "feed" else None,
            )
        docs.append(
            RawDocument(
                source_id=sid,
                uri=uri,
                body=zlib.decompress(body),
                media_type=media,
                fetched_at=fetched,
                charset=enc if enc_source == "http" else None,  # the label the server sent
                entry=entry,
                final_url=final,
            )
        )
    return docs


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def source_lines(con: duckdb.DuckDBPyConnection, sources: Sequence[str]) -> dict[str, frozenset[str]]:
    """Return, per source, the lines its stored plain-text documents repeat (its template lines,
    as a run finds them across a seed folder's files), reading a chunk of documents at a time."""
    lines: dict[str, frozenset[str]] = {}
    for sid in sources:
        uris = [
            r[0]
            for r in con.execute(
                "SELECT r.raw_uri FROM raw_documents AS r JOIN articles AS a USING (raw_uri) "
                "WHERE a.source_id = ? AND r.media_type = 'text/plain' ORDER BY r.raw_uri",
                [sid],
            ).fetchall()
        ]
        if len(uris) < MIN_SOURCE_DOCS:
            continue

        def texts(uris: Sequence[str] = uris) -> Iterator[str]:
            for chunk in _chunks(uris, CHUNK):
                for raw in _documents(con, chunk):
                    yield decode_text(raw.body, raw.charset)

        lines[sid] = repeated_lines(texts(), min_docs=MIN_SOURCE_DOCS)
    return lines


def reextract_documents(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    *,
    run_id: str,
    now: datetime,
    config: PrepareConfig,
    min_change: float,
) -> tuple[ReextractSummary, int | None]:
    """Clean the selected raw documents again and revise the articles whose text changed, in one
    lake transaction (and one of the index after it); return the summary and the lake snapshot."""
    summary = ReextractSummary()
    reasons: Counter[str] = Counter()
    aside: list[Quarantined] = []
    with writing(con) as (index, written):
        keys = selected(con, selection)
        by_source: dict[str, list[str]] = defaultdict(list)
        for uri, sid in keys:
            by_source[sid].append(uri)
        lines = source_lines(con, list(by_source))
        revised = Revised()
        for uris in by_source.values():
            for chunk in _chunks(uris, CHUNK):
                docs = _documents(con, chunk)
                articles, bad = prepare_all(docs, config, None, lines)
                summary.reextracted += len(docs)
                aside += bad
                reasons.update(f"{q.stage}:{q.reason}" for q in bad)
                revised.add(
                    revise(
                        con,
                        index,
                        articles,
                        run_id=run_id,
                        now=now,
                        min_change=min_change,
                        reason="reextract",
                    )
                )
        write_quarantine(con, aside, run_id, now)
    snapshot = written.snapshot
    summary.changed = revised.revised
    summary.unchanged = revised.unchanged
    summary.minor = revised.minor
    summary.quarantined = len(aside)
    summary.quarantine_reasons = dict(reasons.most_common())
    summary.changed_ids = revised.article_ids[:50]
    return summary, snapshot


def reextract_markdown(summary: ReextractSummary, run_id: str, selection: Selection, seconds: float) -> str:
    """Return a re-extraction's summary as a markdown document for the Prefect UI."""
    chosen = ", ".join(
        part
        for part in (
            f"fetched since {selection.since:%Y-%m-%d %H:%M}" if selection.since else "",
            f"source `{selection.source}`" if selection.source else "",
        )
        if part
    )
    lines = [
        "# newsflow reextract",
        "",
        f"**Documents**: {chosen or 'every stored raw document'}  ",
        f"**Took** {seconds:.1f} s; run `{run_id}`",
        "",
        "| re-extracted | changed | unchanged | quarantined now |",
        "|---:|---:|---:|---:|",
        f"| {summary.reextracted} | {summary.changed} | {summary.unchanged} | {summary.quarantined} |",
        "",
        f"{summary.minor} of the unchanged changed by less than the revision threshold and keep their "
        "stored text. A changed article keeps its earlier text in `article_versions` (see the view "
        "`changed_stories`); an article the cleaner sets aside now stays stored, with a `quarantine` row.",
        "",
        "## Quarantined now, by stage:reason",
        "",
        *([f"- `{k}`: {v}" for k, v in summary.quarantine_reasons.items()] or ["- none"]),
    ]
    return "\n".join(lines) + "\n"
