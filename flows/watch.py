"""Watch a drop folder and hand on each new or changed article file once, those that settle within
a window together."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event

import watchfiles

from tasks.fetch.files import FILE_TYPES

Sig = tuple[int, int]  # (mtime_ns, size): what says a file changed
Change = tuple[Path, str]  # a file, and 'added' or 'modified'
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


@dataclass
class Gathering:
    """Settled files gathered for one event: handed on `window_ns` after the first, once no other
    file is still being written (at most 10 windows after the first, so a file that never
    settles holds nothing back for long)."""

    window_ns: int
    files: dict[Path, str] = field(default_factory=dict)  # in order; a file's first change kept
    since: int | None = None

    def add(self, ready: list[Change], now_ns: int) -> None:
        for path, change in ready:
            self.files.setdefault(path, change)
        if self.files and self.since is None:
            self.since = now_ns

    def take(self, now_ns: int, writing: bool) -> list[Change]:
        """Return the gathered files when their time has come (and forget them), else []."""
        if self.since is None:
            return []
        waited = now_ns - self.since
        if waited < self.window_ns or (writing and waited < 10 * self.window_ns):
            return []
        files, self.files, self.since = list(self.files.items()), {}, None
        return files


def watch_folder(
    folder: Path,
    on_batch: Callable[[list[Change]], None],
    *,
    quiet_ms: int = 1000,
    window_ms: int = 3000,
    stop: Event | None = None,
    idle: Callable[[], object] | None = None,
) -> None:
    """Call on_batch(files) with the article files added or changed, once each settles, those
    settled within window_ms of the first together; call idle() between looks."""
    folder = folder.absolute()
    seen = snapshot(folder)
    pending: set[Path] = set()
    gathering = Gathering(window_ms * 1_000_000)
    logger.info("watching %s (%d article files already there)", folder, len(seen))
    for changes in watchfiles.watch(
        folder, stop_event=stop, rust_timeout=250, yield_on_timeout=True, debounce=quiet_ms, step=50
    ):
        for change, raw in changes:
            path = Path(raw)
            if change != watchfiles.Change.deleted and is_article(path):
                pending.add(path)
        now = time.time_ns()
        gathering.add(due(pending, seen, now, quiet_ms * 1_000_000), now)
        files = gathering.take(now, writing=bool(pending))
        if files:
            for path, kind in files:
                logger.info("%s: %s", kind, os.path.relpath(path, folder))
            on_batch(files)
        if idle is not None:
            idle()
