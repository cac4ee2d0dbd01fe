"""Watch a drop folder and emit newsflow.source.updated once for each new or changed article file."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from threading import Event

import watchfiles

from tasks.fetch.files import FILE_TYPES

Sig = tuple[int, int]  # (mtime_ns, size): what says a file changed
logger = logging.getLogger("newsflow.watch")


def _signature(path: Path) -> Sig | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None


def is_article(path: Path) -> bool:
    """Return True for a file the seeds reader would read (editors' temporary files excluded)."""
    return path.suffix.lower() in FILE_TYPES and not path.name.startswith((".", "~"))


def snapshot(folder: Path) -> dict[Path, Sig]:
    """Return the article files already in the folder: they are the daily run's business."""
    found = {p: _signature(p) for p in folder.rglob("*") if is_article(p)}
    return {p: sig for p, sig in found.items() if sig is not None}


def due(pending: set[Path], seen: dict[Path, Sig], now_ns: int, quiet_ns: int) -> list[tuple[Path, str]]:
    """Return the pending files quiet for quiet_ns and changed since seen, with 'added' or 'modified'.

    Files still being written stay pending; gone or unchanged ones are dropped. Updates both.
    """
    ready = []
    for path in sorted(pending):
        sig = _signature(path)
        if sig is not None and now_ns - sig[0] < quiet_ns:
            continue  # still being written: wait for it to settle
        pending.discard(path)
        if sig is None or seen.get(path) == sig:
            continue
        ready.append((path, "modified" if path in seen else "added"))
        seen[path] = sig
    return ready


def watch_folder(
    folder: Path, on_change: Callable[[Path, str], None], *, quiet_ms: int = 1000, stop: Event | None = None
) -> None:
    """Call on_change(path, change) for each article file added or changed, once it settles."""
    folder = folder.absolute()
    seen = snapshot(folder)
    pending: set[Path] = set()
    logger.info("watching %s (%d article files already there)", folder, len(seen))
    for changes in watchfiles.watch(
        folder, stop_event=stop, rust_timeout=250, yield_on_timeout=True, debounce=quiet_ms, step=50
    ):
        for change, raw in changes:
            path = Path(raw)
            if change != watchfiles.Change.deleted and is_article(path):
                pending.add(path)
        for path, kind in due(pending, seen, time.time_ns(), quiet_ms * 1_000_000):
            logger.info("%s: %s", kind, os.path.relpath(path, folder))
            on_change(path, kind)
