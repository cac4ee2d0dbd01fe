"""Helpers for tests against real Prefect processes: a server, served flows, a worker, a watcher."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from .conftest import ROOT

BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """Stop the whole group: SIGTERM, then SIGKILL (a Prefect worker turns SIGTERM into a
        SIGINT that it may sit on)."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # what is left of the group: flow runs too
        self.popen.wait(10)


def wait_for(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    every: float = 0.5,
    process: Process | None = None,
) -> T:
    """Return check()'s first truthy value, polling until timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(f"{what}: process exited\n{process.tail()}")
        time.sleep(every)
    detail = f"\n{process.tail()}" if process is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


class PrefectServer:
    """`prefect server start` on a free port with its own PREFECT_HOME and SQLite database."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = f"http://127.0.0.1:{free_port()}/api"
        self.process: Process | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """Return an environment pointing Prefect clients at this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_API_URL=self.url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_RUNNER_POLL_FREQUENCY="2",
            PREFECT_WORKER_QUERY_SECONDS="2",
            PREFECT_CLI_WRAP_LINES="false",
            COLUMNS="200",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start(self, timeout: float = 180) -> None:
        port = self.url.rsplit(":", 1)[1].split("/")[0]
        env = self.env(PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{self.home / 'prefect.db'}")
        env.pop("PREFECT_API_URL")
        self.process = Process(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port],
            env,
            self.home / "server.log",
        )
        wait_for(self.healthy, timeout, "the Prefect server's /api/health", process=self.process)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def emit(self, event: str, resource_id: str, payload: dict | None = None) -> None:
        """Post one event, as `prefect event emit` or a webhook would."""
        import uuid
        from datetime import UTC, datetime

        body = [
            {
                "id": str(uuid.uuid4()),
                "occurred": datetime.now(UTC).isoformat(),
                "event": event,
                "resource": {"prefect.resource.id": resource_id},
                "payload": payload or {},
            }
        ]
        httpx.post(f"{self.url}/events", json=body, timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
