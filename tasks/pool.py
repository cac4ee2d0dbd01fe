"""A pool of killable worker processes: jobs run in input order, each under a time limit."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver as forkserver
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Any, cast


@dataclass(frozen=True, slots=True)
class Failed:
    """A job the pool gave up on: 'timeout' (worker killed) or 'crashed' (worker died)."""

    reason: str
    detail: str


def _serve(conn: Connection, warm: Callable[[], object] | None) -> None:
    """Worker loop: warm up, say so, then run (function, argument) jobs until the pipe closes
    or None arrives."""
    if warm is not None:
        warm()
    try:
        conn.send(("ready", None))
    except (BrokenPipeError, ConnectionResetError):
        return  # the pool closed while this worker warmed up (a run stopped early, or Ctrl-C)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the pool's process went away without closing the pipe
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
    def __init__(self, ctx: Any, warm: Callable[[], object] | None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, warm), daemon=True)
        self.process.start()
        child.close()
        self.warm = False

    def wait_warm(self) -> None:
        """Wait until the worker has warmed up: its first job's time limit starts after that."""
        if not self.warm:
            self.conn.recv()
            self.warm = True

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Start processes that ignore Ctrl-C: a terminal sends it to the whole process group, and
    the parent, which handles it, stops its workers itself. Ignoring survives the forkserver's
    exec, and the forkserver hands it on to every worker it forks, replacements too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class DocumentPool:
    """Worker processes that run jobs in input order, each under a time limit past which the
    worker is killed and replaced; unlike ProcessPoolExecutor, one stuck job breaks nothing."""

    def __init__(
        self, workers: int, preload: Sequence[str] = (), warm: Callable[[], object] | None = None
    ) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the preloaded modules once; each then
        # runs warm (lazy loads of a first job), so that no job's time limit pays for it.
        self._ctx.set_forkserver_preload(list(preload))
        self._warm = warm
        with _interrupts_ignored():  # only while the server starts: it does not wait for the preload
            forkserver.ensure_running()
        self._size = max(1, workers)
        self._workers: list[_Worker] = []
        self._start_error: BaseException | None = None
        self._closed = False
        self._start_lock = threading.Lock()
        # The fork server's imports take seconds: they run while the caller lists its sources,
        # and a run with nothing to prepare never waits for them.
        self._starting = threading.Thread(target=self._start, name="pool-start", daemon=True)
        self._starting.start()
        self._lock = threading.Lock()

    def _start(self) -> None:
        try:
            for _ in range(self._size):
                worker = _Worker(self._ctx, self._warm)
                with self._start_lock:
                    if self._closed:
                        worker.kill()
                        return
                    self._workers.append(worker)
        except BaseException as exc:  # raised again to the first caller that needs the workers
            self._start_error = exc

    def _started(self) -> None:
        """Wait until every worker process has been started; raise what stopped that."""
        self._starting.join()
        if self._start_error is not None:
            raise self._start_error

    @property
    def size(self) -> int:
        """Return how many worker processes the pool runs, started or still starting."""
        return self._size

    @contextmanager
    def lane(self) -> Iterator[Lane]:
        """Hold the pool for one caller, who starts jobs and collects them as they finish."""
        self._started()
        with self._lock:
            lane = Lane(self)
            try:
                yield lane
            finally:
                lane.abandon()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], timeout: float) -> list[Any]:
        """Return fn(item) for each item in order, or a Failed where it timed out or crashed."""
        results: list[Any] = [None] * len(items)
        todo = deque(enumerate(items))
        with self.lane() as lane:
            while todo or lane.running:
                while todo and lane.idle:
                    index, item = todo.popleft()
                    lane.start(index, fn, item, timeout)
                for key, value in lane.collect():
                    results[cast(int, key)] = value
        return results

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self._ctx, self._warm)
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker, without waiting for those still starting: they stop once started."""
        with self._start_lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.kill()

    def __enter__(self) -> DocumentPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Lane:
    """One caller's hold on the pool: start jobs on idle workers, collect them as they finish,
    each under its own time limit, past which its worker is killed and replaced."""

    def __init__(self, pool: DocumentPool) -> None:
        self._pool = pool
        self._idle = list(pool._workers)
        self._running: dict[Connection, tuple[_Worker, Hashable, float, float]] = {}
        self._finished: list[tuple[Hashable, Any]] = []  # jobs whose worker died before they began

    @property
    def idle(self) -> int:
        """Return how many workers wait for a job."""
        return len(self._idle)

    @property
    def running(self) -> int:
        """Return how many jobs were started and not yet collected."""
        return len(self._running) + len(self._finished)

    def start(self, key: Hashable, fn: Callable[[Any], Any], item: Any, timeout: float) -> None:
        """Run fn(item) on an idle worker (there must be one); collect returns it under key."""
        worker = self._idle.pop()
        try:
            worker.wait_warm()
            worker.conn.send((fn, item))
        except (EOFError, OSError):  # the worker died between jobs
            self._finished.append((key, Failed("crashed", f"exit code {worker.process.exitcode}")))
            self._idle.append(self._pool._replace(worker))
            return
        self._running[worker.conn] = (worker, key, timeout, time.monotonic() + timeout)

    def collect(self, wait_at_most: float | None = None) -> list[tuple[Hashable, Any]]:
        """Return (key, result) of the jobs that finished, waiting until one does, a time limit
        passes or wait_at_most seconds; a Failed where a job timed out or its worker crashed.
        Raise the exception a job raised."""
        done, self._finished = self._finished, []
        if done or not self._running:
            return done
        pause = max(0.0, min(deadline for *_, deadline in self._running.values()) - time.monotonic())
        for ready in wait(list(self._running), timeout=min(pause, wait_at_most or pause)):
            conn = cast(Connection, ready)
            worker, key, _, _ = self._running.pop(conn)
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                done.append((key, Failed("crashed", f"exit code {worker.process.exitcode}")))
                self._idle.append(self._pool._replace(worker))
                continue
            self._idle.append(worker)
            if status == "error":
                raise value
            done.append((key, value))
        now = time.monotonic()
        for conn, (worker, key, timeout, deadline) in list(self._running.items()):
            if deadline <= now:
                del self._running[conn]
                done.append((key, Failed("timeout", f"no result within {timeout:g} s")))
                self._idle.append(self._pool._replace(worker))
        return done

    def abandon(self) -> None:
        """Start afresh the workers of jobs still running: they would answer a later job."""
        for worker, *_ in self._running.values():
            self._pool._replace(worker)
        self._running = {}


_early: dict[tuple[int, tuple[str, ...]], DocumentPool] = {}  # started ahead, by (workers, preload)


def start_early(workers: int, preload: Sequence[str]) -> None:
    """Start a pool now, for this process's next take_early of the same size and preload: its
    fork server imports the preloaded modules while this process goes on with other work."""
    key = (workers, tuple(preload))
    if workers > 0 and not _early and can_fork_workers():
        _early[key] = DocumentPool(workers, preload=preload)


def take_early(workers: int, preload: Sequence[str]) -> DocumentPool | None:
    """Return the pool start_early started with this size and preload, or None; a pool started
    with others is closed."""
    pool = _early.pop((workers, tuple(preload)), None)
    for other in _early.values():
        other.close()
    _early.clear()
    return pool


def can_fork_workers() -> bool:
    """Return whether this process may start worker processes (daemonic ones, e.g. Dask's, may not)."""
    return not multiprocessing.current_process().daemon
