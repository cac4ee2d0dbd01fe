"""The warehouse's one writer: a private file, guarded by an OS lock, published atomically."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

import warehouse
from tasks.log import run_logger

SLOT_WAIT_SECONDS = 1800.0  # a waiting run gives up after this; another run's load takes seconds to minutes
_POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Warehouse:
    """One warehouse: the published file users open, and the private file runs write."""

    db: Path

    @property
    def writer(self) -> Path:
        return writer_path(self.db)

    def locked(self, timeout: float = SLOT_WAIT_SECONDS) -> AbstractContextManager[None]:
        """Return the writer lock, waited for up to timeout seconds."""
        return warehouse_slot(self.writer, timeout)

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Return a connection to the writer file; hold the lock while it is open."""
        return warehouse.connect(self.writer, read_only=read_only)

    def publish(self) -> None:
        """Publish the writer file to readers; the caller holds the lock."""
        publish(self.writer, self.db)


def writer_path(db: Path) -> Path:
    """Return the private file runs write, next to the published warehouse file users open."""
    return db.with_name(f".{db.stem}.writer{db.suffix or '.duckdb'}")


@contextmanager
def warehouse_slot(writer: Path, timeout: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the lock that makes one process at a time the writer of this writer file, waiting
    up to timeout seconds for it.

    An OS lock (flock) on a file beside the warehouse: DuckDB refuses a second writing process
    instead of waiting, and the kernel frees the lock the moment its holder dies, however it
    dies. (A Prefect global concurrency limit did this job before: a run killed while holding
    its slot left the slot taken for good once the server restarted, as an ephemeral one does.)
    """
    path = writer.with_suffix(".lock")
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


def seed_writer(db: Path, writer: Path) -> bool:
    """Copy a published warehouse into a missing writer file (a warehouse made before the writer
    existed); return True when copied."""
    if writer.exists() or not db.exists():
        return False
    writer.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        source = Path(f"{db}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{writer}{suffix}")
    return True


def publish(writer: Path, db: Path) -> None:
    """Replace the published file by a checkpointed copy of the writer file, atomically; the
    caller holds the writer lock.

    Readers that hold the old file keep reading their snapshot until they reopen the path.
    """
    with warehouse.connect(writer) as con:
        con.execute("CHECKPOINT")
    prefix, suffix = f".{db.stem}.", f".publish{db.suffix}"
    # Copies left by a run killed while publishing; the caller holds the writer lock.
    for leftover in db.parent.glob(f"{prefix}*{suffix}"):
        leftover.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=db.parent)
    try:
        with os.fdopen(fd, "wb") as out, writer.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        shutil.copymode(writer, tmp)  # mkstemp's 0600 would lock other users out
        # A WAL left by a user's read-write session belongs to the old file: never replay it on the new.
        Path(f"{db}.wal").unlink(missing_ok=True)
        os.replace(tmp, db)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Return True when a failed warehouse task may succeed on retry (I/O, not bad data or setup)."""
    exc = state.result(raise_on_failure=False)
    if isinstance(exc, TimeoutError | FileNotFoundError):
        return False  # waited the whole slot timeout already, or the input is gone
    return isinstance(exc, duckdb.IOException | OSError)
