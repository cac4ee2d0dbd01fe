"""The warehouse's one writer: an OS lock, then a connection to the lake and the private index."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from tasks.log import run_logger
from warehouse.lake import Lake

SLOT_WAIT_SECONDS = 1800.0  # a waiting run gives up after this; another run's load takes seconds to minutes
_POLL_SECONDS = 0.2


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
        return self.catalog is not None or self.db.exists()

    def locked(self, timeout: float = SLOT_WAIT_SECONDS) -> AbstractContextManager[None]:
        """Return the writer lock, waited for up to timeout seconds."""
        return warehouse_slot(self.db.with_name(f".{self.db.stem}.lock"), timeout)

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
        _acquire(handle, timeout)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%FT%T%z')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle: IO[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if not waiting:
            run_logger().info("waiting for the warehouse writer lock, %s", _holder(handle))
            waiting = True
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"the warehouse writer lock {handle.name} is still held after "
                f"{timeout:g} s ({_holder(handle)})"
            )
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
