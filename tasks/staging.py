"""Staging: a run's prepared batches as Arrow files on disk, until its one load transaction reads them."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.log import run_logger
from tasks.records import Article, Prepared

_ARROW = {
    "str": pa.large_string(),
    "str | None": pa.large_string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "datetime | None": pa.timestamp("us", tz="UTC"),
    "tuple[str, ...]": pa.list_(pa.string()),
    "bytes": pa.large_binary(),
}
ARTICLE_FIELDS = [f.name for f in fields(Article)]
_EXTRA = [f for f in fields(Prepared) if f.name != "article"]
# One row per prepared article: the articles row, then what dedup and raw_documents need.
ARTICLE_SCHEMA = pa.schema([(f.name, _ARROW[str(f.type)]) for f in fields(Article)])
SCHEMA = pa.schema([*ARTICLE_SCHEMA, *((f.name, _ARROW[str(f.type)]) for f in _EXTRA)])


def article_columns(articles: Sequence[Article]) -> dict[str, list[Any]]:
    """Return the articles as columns named and ordered as the articles table's."""
    return {name: [getattr(a, name) for a in articles] for name in ARTICLE_FIELDS}


def _columns(items: Sequence[Prepared]) -> dict[str, list[Any]]:
    columns = article_columns([p.article for p in items])
    columns.update({f.name: [getattr(p, f.name) for p in items] for f in _EXTRA})
    return columns


class StagingBusy(Exception):
    """Another process holds the staging folder of this run id."""


ROWS_PER_WRITE = 32


def staging_root(db: Path) -> Path:
    """Return the folder of the warehouse's staging areas, next to its writer file."""
    # One per warehouse file, not one per folder: cleaning must never reach another warehouse's runs.
    return db.with_name(f".{db.stem}.staging")


def write_batch(path: Path, articles: Sequence[Prepared]) -> None:
    """Write the prepared articles to an Arrow IPC file, whole or not at all."""
    partial = path.with_name(f"{path.name}.partial")
    # Not compressed: the raw bodies, most of a batch, come zlib-compressed from the workers. On 200
    # corpus pages zstd made the file 10 % smaller for twice the CPU (write 33 ms against 14, read 24
    # against 15), spent in the main process.
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, SCHEMA) as out:
        # A few rows at a time: Arrow then never holds a second copy of the whole batch.
        for start in range(0, len(articles), ROWS_PER_WRITE):
            part = articles[start : start + ROWS_PER_WRITE]
            out.write_batch(pa.RecordBatch.from_pydict(_columns(part), schema=SCHEMA))
    os.replace(partial, path)


def read_batch(path: Path) -> list[Prepared]:
    """Return the prepared articles of a staged batch file, in the order they were written."""
    articles = []
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        for index in range(reader.num_record_batches):
            articles += [_prepared(row) for row in reader.get_batch(index).to_pylist()]
    return articles


def _prepared(row: dict[str, Any]) -> Prepared:
    article = Article(
        **{
            **{name: row[name] for name in ARTICLE_FIELDS},
            "tags": tuple(row["tags"]),
            "published_at": _utc(row["published_at"]),
            "fetched_at": _utc(row["fetched_at"]),
        }
    )
    return Prepared(article, **{f.name: row[f.name] for f in _EXTRA})


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def staged_batches(folder: Path) -> list[Path]:
    """Return a staging area's batch files in the order they were staged; none when it is empty."""
    return sorted(folder.glob("*.arrow"))


def _try_lock(lock: Path) -> int | None:
    """Return a descriptor holding the lock file's exclusive lock, or None when another holds it."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove_stale(root: Path) -> list[str]:
    """Remove the staging areas no live run holds (left by a killed run); return their run ids."""
    if not root.is_dir():
        return []
    removed = []
    for run_id in sorted({p.name.removesuffix(".lock") for p in root.iterdir()}):
        # The kernel drops a dead process's lock: a lock we can take belongs to no live run.
        fd = _try_lock(root / f"{run_id}.lock")
        if fd is None:
            continue
        try:
            shutil.rmtree(root / run_id, ignore_errors=True)
            (root / f"{run_id}.lock").unlink(missing_ok=True)
            removed.append(run_id)
        finally:
            os.close(fd)
    return removed


@contextmanager
def staging_area(db: Path, run_id: str) -> Iterator[Path]:
    """Hold a fresh staging folder for the run, removed on exit; remove stale ones first.

    A run killed before its load leaves its folder behind; the next run removes it. Those
    documents were never loaded, so that run fetches and prepares them again.
    """
    root = staging_root(db)
    root.mkdir(parents=True, exist_ok=True)
    stale = remove_stale(root)
    if stale:
        run_logger().warning(
            "removed %d staging folders of runs that ended early: %s", len(stale), ", ".join(stale)
        )
    # Locked before the folder exists, so that no other run's cleaning can take it for stale.
    fd = _try_lock(root / f"{run_id}.lock")
    if fd is None:
        raise StagingBusy(f"run {run_id} is staging in {root} already")
    folder = root / run_id
    try:
        folder.mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        (root / f"{run_id}.lock").unlink(missing_ok=True)
        os.close(fd)


@task(name="stage", cache_policy=NO_CACHE)
def stage_batch(path: Path, articles: list[Prepared]) -> Path:
    """Write a prepared batch to its file in the run's staging folder; return the file."""
    write_batch(path, articles)
    run_logger().info("staged %d articles in %s (%d bytes)", len(articles), path.name, path.stat().st_size)
    return path
