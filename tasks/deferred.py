"""Items left for a later run: read when a run opens, written in its load transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from tasks.records import Deferred, EntryMeta
from warehouse import merge


def read_deferred(con: duckdb.DuckDBPyConnection, source_ids: Collection[str]) -> list[Deferred]:
    """Return the items of these sources that earlier runs left waiting, oldest first."""
    if not source_ids:
        return []
    con.register("wanted_sources", pa.table({"source_id": pa.array(sorted(source_ids), pa.string())}))
    rows = con.execute(
        "SELECT source_id, uri, reason, detail, entry FROM deferred "
        "WHERE source_id IN (SELECT source_id FROM wanted_sources) ORDER BY first_deferred_at, uri"
    ).fetchall()
    con.unregister("wanted_sources")
    return [
        Deferred(sid, uri, reason, detail or "", _entry(entry)) for sid, uri, reason, detail, entry in rows
    ]


def _entry(value: str | None) -> EntryMeta | None:
    if value is None:
        return None
    data: dict[str, Any] = json.loads(value)
    for name in ("published", "updated"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return EntryMeta(**data)


def _json(entry: EntryMeta | None) -> str | None:
    return None if entry is None else json.dumps(asdict(entry), default=datetime.isoformat)


def write_deferred(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Deferred],
    taken: Collection[str],
    *,
    run_id: str,
    now: datetime,
) -> None:
    """Record the items left for a later run, and forget those of `taken` (the waiting items
    this run took) that reached another outcome."""
    unique = list({d.uri: d for d in items}.values())
    if unique:
        ts = pa.timestamp("us", tz="UTC")
        merge(
            con,
            "deferred",
            pa.table(
                {
                    "uri": [d.uri for d in unique],
                    "source_id": [d.source_id for d in unique],
                    "reason": [d.reason for d in unique],
                    "detail": [d.detail[:2000] for d in unique],
                    "entry": [_json(d.entry) for d in unique],
                    "first_run_id": [run_id] * len(unique),
                    "last_run_id": [run_id] * len(unique),
                    "first_deferred_at": pa.array([now] * len(unique), ts),
                    "last_deferred_at": pa.array([now] * len(unique), ts),
                }
            ),
            keys=("uri",),
            update="reason = incoming.reason, detail = incoming.detail, entry = incoming.entry, "
            "last_run_id = incoming.last_run_id, last_deferred_at = incoming.last_deferred_at, "
            "times_deferred = deferred.times_deferred + 1",
        )
    done = sorted(set(taken) - {d.uri for d in unique})
    if done:
        con.register("done_deferred", pa.table({"uri": pa.array(done, pa.string())}))
        con.execute("DELETE FROM deferred WHERE uri IN (SELECT uri FROM done_deferred)")
        con.unregister("done_deferred")
