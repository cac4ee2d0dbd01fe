"""A pool of killable worker processes: jobs run in input order, each under a time limit."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Any, cast


@dataclass(frozen=True, slots=True)
class Failed:
    """A job the pool gave up on: 'timeout' (worker killed) or 'crashed' (worker died)."""

    reason: str
    detail: str


def _serve(conn: Connection) -> None:
    """Worker loop: run (function, argument) jobs until the pipe closes or None arrives."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        fn, arg = job
        try:
            outcome: tuple[str, Any] = ("ok", fn(arg))
        except Exception as exc:  # re-raised in the parent, where the task's retry policy lives
            outcome = ("error", exc)
        try:
            conn.send(outcome)
        except Exception as exc:  # an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class DocumentPool:
    """Worker processes that run jobs in input order, each under a time limit past which the
    worker is killed and replaced; unlike ProcessPoolExecutor, one stuck job breaks nothing."""

    def __init__(self, workers: int, preload: Sequence[str] = ()) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the preloaded modules once.
        self._ctx.set_forkserver_preload(list(preload))
        self._workers = [_Worker(self._ctx) for _ in range(max(1, workers))]
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._workers)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], timeout: float) -> list[Any]:
        """Return fn(item) for each item in order, or a Failed where it timed out or crashed."""
        with self._lock:
            return self._map(fn, items, timeout)

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any], timeout: float) -> list[Any]:
        results: list[Any] = [None] * len(items)
        todo = deque(enumerate(items))
        idle = list(self._workers)
        running: dict[Connection, tuple[_Worker, int, float]] = {}
        try:
            while todo or running:
                while todo and idle:
                    worker = idle.pop()
                    index, item = todo.popleft()
                    try:
                        worker.conn.send((fn, item))
                    except OSError:  # the worker died between jobs
                        results[index] = Failed("crashed", f"exit code {worker.process.exitcode}")
                        idle.append(self._replace(worker))
                        continue
                    running[worker.conn] = (worker, index, time.monotonic() + timeout)
                if not running:
                    continue
                first = min(deadline for _, _, deadline in running.values())
                for ready in wait(list(running), timeout=max(0.0, first - time.monotonic())):
                    conn = cast(Connection, ready)
                    worker, index, _ = running.pop(conn)
                    try:
                        status, value = conn.recv()
                    except (EOFError, OSError):
                        results[index] = Failed("crashed", f"exit code {worker.process.exitcode}")
                        idle.append(self._replace(worker))
                        continue
                    if status == "error":
                        raise value
                    results[index] = value
                    idle.append(worker)
                now = time.monotonic()
                for conn, (worker, index, deadline) in list(running.items()):
                    if deadline <= now:
                        del running[conn]
                        results[index] = Failed("timeout", f"no result within {timeout:g} s")
                        idle.append(self._replace(worker))
        except BaseException:
            # Jobs still running would answer a later map: start those workers afresh.
            for worker, _, _ in running.values():
                self._replace(worker)
            raise
        return results

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self._ctx)
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.kill()
        self._workers = []

    def __enter__(self) -> DocumentPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def can_fork_workers() -> bool:
    """Return whether this process may start worker processes (daemonic ones, e.g. Dask's, may not)."""
    return not multiprocessing.current_process().daemon
