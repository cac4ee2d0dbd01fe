"""How `newsflow run` ends: the load report, a failure in one line, or Ctrl-C in one line."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

import duckdb
from rich.console import Console
from rich.table import Table

from flows.terminal import fail, open_warehouse
from tasks.report import STATE_ORDER, STATE_WORDS, RunSummary

TOTALS = ("discovered", "new", "duplicates", "unchanged", "quarantined", "deferred")
BREAKDOWNS = ("languages", "duplicate_kinds", "quarantine_reasons", "deferred_reasons")


@dataclass(frozen=True, slots=True)
class Finished:
    """Where a run wrote, which run it was, how long it took, and its page in the Prefect UI."""

    db: Path
    run_id: str
    seconds: float
    ui_url: str | None  # None when no Prefect server is configured (a temporary one ran)


def print_report(console: Console, summary: RunSummary, run: Finished) -> None:
    """Print the load report: the run, the warehouse, outcomes by kind, feeds by state, the link."""
    say = _literal(console)
    say(f"newsflow run {run.run_id} completed in {run.seconds:.1f} s")
    say(f"warehouse: {run.db}")
    counts = summary.to_dict()
    table = Table(show_header=True)
    for key in TOTALS:
        table.add_column(key, justify="right")
    table.add_row(*(str(counts[k]) for k in TOTALS))
    console.print(table)
    for key in BREAKDOWNS:
        if counts[key]:
            say(f"{key}: " + ", ".join(f"{k}={v}" for k, v in counts[key].items()))
    if summary.feeds:
        states = Counter(summary.feeds.values())
        say(
            "feeds and sitemaps: "
            + ", ".join(f"{states[s]} {STATE_WORDS[s]}" for s in STATE_ORDER if states[s])
        )
    for uri, state in sorted(summary.feeds.items(), key=lambda kv: (STATE_ORDER.index(kv[1]), kv[0])):
        name = summary.feed_names.get(uri)
        say(f"  {STATE_WORDS[state]}: {name + ' ' if name else ''}{uri}")
    if run.ui_url:
        say(f"Prefect UI: {run.ui_url}/runs/flow-run/{run.run_id}")


def failure_message(exc: BaseException, folder: Path | None = None) -> str:
    """Return what a failed run's exception means for the user, in one line; folder is the
    warehouse's, asked for the cause when SQLite reports only an I/O error."""
    text = f"{type(exc).__name__}: {exc}"
    if folder is not None and ("disk I/O error" in text or "disk is full" in text):
        text += f" ({_write_probe(folder)})"  # SQLite names no errno: ask the file system
    full = (
        (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT))
        or "No space left on device" in text
        or "File too large" in text
    )
    if full:
        return (
            "the disk is full. The warehouse keeps its earlier rows; free some space and run "
            f"again: the next run completes this one's work once. ({text})"
        )
    return text


def _write_probe(folder: Path) -> str:
    """Return what writing 1 MiB in folder says now: an errno's words, or that it worked."""
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"\0" * (1 << 20))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return f"writing in {folder}: {exc.strerror or exc}"
    return f"writing in {folder} works now"


def interrupted_message(con: duckdb.DuckDBPyConnection | None) -> str:
    """Return, in one line, what an interrupted run of this process left and what the next
    run does; con is the warehouse, None when there is none yet."""
    redo = "the next run fetches and prepares its documents again"
    row = None
    if con is not None:
        row = con.execute(
            "SELECT run_id, (SELECT count(*) FROM articles AS a WHERE a.run_id = r.run_id), "
            "(SELECT count(*) FROM articles) FROM runs AS r WHERE pid = ? AND host = ? "
            "ORDER BY started_at DESC LIMIT 1",
            [os.getpid(), socket.gethostname()],
        ).fetchone()
    if row is None:
        return "interrupted before the run opened the warehouse: nothing was written"
    run_id, loaded, total = row
    if loaded:
        return (
            f"interrupted after run {run_id} loaded its {loaded} new articles: they are kept "
            f"({total} in the warehouse); the next run finds them stored and adds nothing twice"
        )
    return (
        f"interrupted: run {run_id} loaded nothing; the warehouse keeps the {total} articles "
        f"earlier runs loaded; {redo}"
    )


def _literal(console: Console) -> Callable[[str], None]:
    def say(line: str) -> None:
        console.print(line, markup=False, soft_wrap=True)

    return say


@contextmanager
def interrupt_once() -> Iterator[None]:
    """Turn the first Ctrl-C into KeyboardInterrupt and ignore the next ones, so that the run's
    clean-up (recording it as failed, removing its staging files) is not cut short."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def say_interrupted(path: Path) -> None:
    """Say on stderr, in one line, what an interrupted run kept and what the next run does."""
    try:
        if not path.exists():
            fail(interrupted_message(None))
            return
        with open_warehouse(path) as con:
            fail(interrupted_message(con))
    except duckdb.Error:
        fail(
            "interrupted: the warehouse keeps what earlier runs loaded; the next run fetches "
            "and prepares this run's documents again"
        )


def exit_now(code: int) -> NoReturn:
    """Exit once Prefect has sent its logs and events, without waiting for the fetches the
    interrupted run abandoned: a slow host's request would hold the exit until it times out."""
    from prefect.events.worker import EventsWorker

    logging.shutdown()  # Prefect's API log handler sends what it holds
    EventsWorker.drain_all(timeout=5)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
