"""The warehouse's one writer: a private file, guarded by a global concurrency limit, published atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

import warehouse

WAREHOUSE_LIMIT = "newsflow-warehouse"
SLOT_WAIT_SECONDS = 1800.0  # a waiting run gives up after this; another run's load takes seconds to minutes


def writer_path(db: Path) -> Path:
    """Return the private file runs write, next to the published warehouse file users open."""
    return db.with_name(f".{db.stem}.writer{db.suffix or '.duckdb'}")


def ensure_limit(name: str = WAREHOUSE_LIMIT) -> bool:
    """Create the one-slot global concurrency limit unless it exists; return True when created."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            return False  # another run created it a moment ago
        return True


@contextmanager
def warehouse_slot(name: str = WAREHOUSE_LIMIT) -> Iterator[None]:
    """Hold the warehouse's one slot: runs write one at a time, and a missing limit is an error."""
    # strict: a limit that does not exist would otherwise limit nothing, silently.
    # A short lease, renewed while held: a run killed holding the slot frees it within a minute.
    with concurrency(name, occupy=1, timeout_seconds=SLOT_WAIT_SECONDS, lease_duration=60,
                     strict=True):
        yield


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
    """Replace the published file by a checkpointed copy of the writer file, atomically.

    Readers that hold the old file keep reading their snapshot until they reopen the path.
    """
    with warehouse.connect(writer) as con:
        con.execute("CHECKPOINT")
    fd, tmp = tempfile.mkstemp(prefix=f".{db.stem}.", suffix=f".publish{db.suffix}", dir=db.parent)
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
