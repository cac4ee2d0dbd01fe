"""The warehouse's one writer: an OS lock (and, with a PostgreSQL catalog, an advisory lock on
that server), then a connection to the lake and the private index."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from tasks.log import run_logger
from warehouse import extensions
from warehouse.lake import Lake

SLOT_WAIT_SECONDS = 1800.0  # a waiting run gives up after this; another run's load takes seconds to minutes
_POLL_SECONDS = 0.2
# The advisory lock key every newsflow writer of a PostgreSQL catalog takes ('news' in ASCII).
ADVISORY_KEY = 0x6E657773


@dataclass(frozen=True, slots=True)
class Warehouse:
    """One warehouse: the lake users read (catalog file db, Parquet beside it) and runs write."""

    db: Path
    catalog: str | None = None  # a DuckLake catalog URL other than the SQLite file db (PostgreSQL)

    @property
    def lake(self) -> Lake:
        return Lake.at(self.db, self.catalog)

    def exists(self) -> bool:
        """Return True once a run or a command created the warehouse."""
        return self.lake.exists()

    def locked(self, timeout: float = SLOT_WAIT_SECONDS) -> AbstractContextManager[None]:
        """Return the writer lock, waited for up to timeout seconds: the lock file beside db,
        and with a PostgreSQL catalog the advisory lock every process writing it takes too."""
        slot = warehouse_slot(self.db.with_name(f".{self.db.stem}.lock"), timeout)
        conninfo = self.lake.postgres
        return slot if conninfo is None else _both(slot, conninfo, timeout)

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Return a connection to the lake (and, writing, the index); hold the lock to write."""
        return self.lake.connect(read_only=read_only)


@contextmanager
def warehouse_slot(path: Path, timeout: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the lock file path that makes one process at a time the writer of a warehouse,
    waiting up to timeout seconds for it.

    An OS lock (flock) on a file beside the warehouse: DuckDB refuses a second writing process
    instead of waiting, and the kernel frees the lock the moment its holder dies, however it
    dies. (A Prefect global concurrency limit did this job before: a run killed while holding
    its slot left the slot taken for good once the server restarted, as an ephemeral one does.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        _acquire(lambda: _flock(handle), lambda: _holder(handle), timeout, f"lock {handle.name}")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%FT%T%z')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _both(slot: AbstractContextManager[None], conninfo: str, timeout: float) -> Iterator[None]:
    with slot, catalog_lock(conninfo, timeout):
        yield


@contextmanager
def catalog_lock(conninfo: str, timeout: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the advisory lock that makes one process at a time, on any machine, the writer of
    the lake whose PostgreSQL catalog is the database conninfo names, waiting up to timeout s.

    A transaction-level lock (pg_try_advisory_xact_lock) in a transaction that a connection of
    its own keeps open: the server frees it when the transaction ends, or when the session
    does, however its process or machine went away. The lake's writes are serialized by it,
    so each process's private index, caught up from the lake after the lock is taken, holds
    every key another process committed before.
    """
    con = extensions.connect()
    try:
        extensions.load(con, "postgres_scanner")
        me = f"newsflow writer pid {os.getpid()} on {socket.gethostname()}"
        con.execute(f"ATTACH {_literal(f'{conninfo} application_name={_literal(me)}')} AS pg (TYPE postgres)")
        con.execute("BEGIN TRANSACTION")
        _acquire(lambda: _advisory(con), lambda: _advisory_holder(con), timeout, "advisory lock")
        yield
    finally:
        con.close()  # ends the transaction, and frees the lock with it


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pg(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(f"SELECT * FROM postgres_query('pg', {_literal(sql)})").fetchone()
    return row[0] if row else None


def _advisory(con: duckdb.DuckDBPyConnection) -> bool:
    # A server that ends idle transactions would free the lock while the run still writes.
    _pg(con, "SELECT set_config('idle_in_transaction_session_timeout', '0', true)")
    return _pg(con, f"SELECT pg_try_advisory_xact_lock({ADVISORY_KEY})") is True


def _advisory_holder(con: duckdb.DuckDBPyConnection) -> str:
    holder = _pg(
        con,
        "SELECT string_agg(a.application_name || ' from ' "
        "|| coalesce(host(a.client_addr), 'a local socket'), ', ') "
        "FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        f"AND l.granted AND l.classid = 0 AND l.objid = {ADVISORY_KEY} AND l.objsubid = 1",
    )
    return f"held by {holder or 'an unknown process'}"


def _flock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _acquire(take: Callable[[], bool], holder: Callable[[], str], timeout: float, name: str) -> None:
    deadline = time.monotonic() + timeout
    waiting = False
    while not take():
        if not waiting:
            run_logger().info("waiting for the warehouse writer %s, %s", name, holder())
            waiting = True
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the warehouse writer {name} is still held after {timeout:g} s ({holder()})")
        time.sleep(_POLL_SECONDS)


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return f"held by {handle.read().strip() or 'an unknown process'}"


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Return True when a failed warehouse task may succeed on retry (I/O, not bad data or setup)."""
    exc = state.result(raise_on_failure=False)
    if isinstance(exc, TimeoutError | FileNotFoundError):
        return False  # waited the whole slot timeout already, or the input is gone
    return isinstance(exc, duckdb.IOException | OSError)
