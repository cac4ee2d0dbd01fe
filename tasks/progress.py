"""A run's progress while it streams: a Prefect progress artifact, updated at most once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast
from uuid import UUID

import httpx
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext
from prefect.exceptions import PrefectHTTPStatusError

from tasks.log import run_logger

if TYPE_CHECKING:
    from tasks.stream import Streamed

PROGRESS_KEY = "newsflow-progress"
Publish = Callable[[float, str], None]


def progress_text(streamed: Streamed, total: int, seconds: float) -> tuple[float, str]:
    """Return the share of the run's items settled (0-100) and a line of counts with the rate."""
    share = 100.0 * streamed.settled / total if total else 100.0
    rate = streamed.settled / seconds if seconds > 0 else 0.0
    aside = len(streamed.fetch_faults) + len(streamed.dropped)
    return share, (
        f"{streamed.settled} of {total} items settled ({rate:.1f}/s): {streamed.documents} documents "
        f"read or fetched, {streamed.staged} articles staged, {aside} set aside, "
        f"{len(streamed.deferred)} deferred"
    )


class Ticker:
    """Calls publish with the stream's progress every `every` seconds while it changes, from its
    own thread (the stream's loop only counts), and once more when stopped."""

    def __init__(self, streamed: Streamed, total: int, publish: Publish, every: float = 1.0) -> None:
        self.streamed, self.total, self.publish, self.every = streamed, total, publish, every
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._last: tuple[int, ...] | None = None
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def _tick(self) -> None:
        s = self.streamed
        counts = (s.settled, s.documents, s.staged, len(s.fetch_faults), len(s.dropped), len(s.deferred))
        if counts != self._last:
            self.publish(*progress_text(s, self.total, time.monotonic() - self._start))
            self._last = counts

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._tick()

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._tick()


def _artifact_publisher() -> Publish | None:
    """Return what updates the flow run's progress artifact (created at 0 %), or None outside a run."""
    if FlowRunContext.get() is None:
        return None
    # Called from sync code, async_dispatch answers the id, not a coroutine.
    artifact = cast(UUID, create_progress_artifact(0.0, key=PROGRESS_KEY, description="starting"))
    warned = False

    def publish(share: float, text: str) -> None:
        nonlocal warned
        try:
            update_progress_artifact(artifact, share, description=text)
        except (httpx.HTTPError, PrefectHTTPStatusError) as exc:  # the run goes on without it
            if not warned:
                run_logger().warning("progress artifact not updated: %s", exc)
                warned = True

    return publish


@contextmanager
def progress_artifact(streamed: Streamed, total: int, every: float = 1.0) -> Iterator[None]:
    """Keep the flow run's progress artifact up to date with the stream's counts while inside."""
    publish = _artifact_publisher()
    if publish is None:
        yield
        return
    with Ticker(streamed, total, publish, every):
        yield
