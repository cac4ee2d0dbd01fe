"""The run ledger: each run's start, end and summary in the runs table."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import duckdb

import warehouse

RunStatus = Literal["running", "completed", "failed"]


def known_keys(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Return every document key stored as an article or a duplicate: what needs no refetch."""
    index = warehouse.index_cursor(con)
    try:
        rows = index.execute(
            "SELECT raw_uri FROM article_keys UNION ALL SELECT duplicate_id FROM duplicate_keys"
        )
        return frozenset(row[0] for row in rows.fetchall())
    finally:
        index.close()


def stored_fetched(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Return when each stored article was last fetched, by key: what says a listed page changed
    since (its feed entry's `updated`, its sitemap `lastmod`)."""
    index = warehouse.index_cursor(con)
    try:
        return dict(index.execute("SELECT raw_uri, fetched_at FROM article_keys").fetchall())
    finally:
        index.close()


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, now: datetime
) -> frozenset[str]:
    """Record a run as started, apply the schema, close the runs whose process is gone, and
    return the stored document keys."""
    host = socket.gethostname()
    warehouse.migrate(con)
    abandon_dead_runs(con, host, now)
    con.execute(
        "INSERT INTO runs (run_id, flow_run_id, started_at, status, pid, host) "
        "SELECT ?, ?, ?, 'running', ?, ? WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
        [run_id, flow_run_id, now, os.getpid(), host, run_id],
    )
    return known_keys(con)


def abandon_dead_runs(con: duckdb.DuckDBPyConnection, host: str, now: datetime) -> list[str]:
    """Mark failed the runs still 'running' whose process on this host is gone; return their ids."""
    rows = con.execute(
        "SELECT run_id, pid FROM runs WHERE status = 'running' AND host = ?", [host]
    ).fetchall()
    dead = [(run_id, pid) for run_id, pid in rows if not _alive(pid)]
    for run_id, pid in dead:
        error = f"abandoned: its process (pid {pid} on {host}) ended without closing the run"
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, counts = ? WHERE run_id = ?",
            [now, json.dumps({"error": error}), run_id],
        )
    return [run_id for run_id, _ in dead]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: RunStatus,
    now: datetime,
    counts: Mapping[str, Any],
    snapshot: int | None = None,
) -> None:
    """Record a run's end, its status, its counts (a RunSummary's, or the error) and the lake
    snapshot that holds its rows."""
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, documents = ?, new_articles = ?, "
        "unchanged = ?, duplicates = ?, quarantined = ?, counts = ?, load_snapshot = ? WHERE run_id = ?",
        [
            now,
            status,
            counts.get("documents"),
            counts.get("new"),
            counts.get("unchanged"),
            counts.get("duplicates"),
            counts.get("quarantined"),
            json.dumps(counts, default=str),
            snapshot,
            run_id,
        ],
    )
