"""The run ledger: each run's start, end and summary in the runs table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

import warehouse


def known_keys(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Return every document key stored as an article or a duplicate: what needs no refetch."""
    rows = con.execute("SELECT raw_uri FROM articles UNION ALL SELECT duplicate_id FROM duplicates")
    return frozenset(row[0] for row in rows.fetchall())


def start_run(db: Path, run_id: str, flow_run_id: str | None, now: datetime) -> frozenset[str]:
    """Record a run as started, apply the schema, and return the stored document keys."""
    with warehouse.connect(db) as con:
        warehouse.migrate(con)
        con.execute(
            "INSERT INTO runs (run_id, flow_run_id, started_at, status) VALUES (?, ?, ?, 'running') "
            "ON CONFLICT DO NOTHING",
            [run_id, flow_run_id, now],
        )
        return known_keys(con)


def finish_run(
    db: Path, run_id: str, status: str, now: datetime, summary: dict[str, object]
) -> None:
    """Record a run's end, its status and its summary counts."""
    with warehouse.connect(db) as con:
        con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, documents = ?, new_articles = ?, "
            "unchanged = ?, duplicates = ?, quarantined = ?, counts = ? WHERE run_id = ?",
            [now, status, summary.get("documents"), summary.get("new"), summary.get("unchanged"),
             summary.get("duplicates"), summary.get("quarantined"), json.dumps(summary, default=str),
             run_id],
        )
