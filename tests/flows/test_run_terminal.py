"""`newsflow run` as a user sees it: the progress display on a pseudo-terminal, the load report,
and Ctrl-C during a run; real processes, a real Prefect server, a real local HTTP server."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Request, Response

import warehouse
from tests.prefect_server import PrefectServer

pytestmark = [pytest.mark.server, pytest.mark.slow]

CONTROL = re.compile(r"\x1b\[(\??[0-9;]*)([A-Za-z])")


def screen(output: str) -> list[str]:
    """Return the lines a terminal shows for output: carriage returns, cursor-up and erase-line
    applied, as Rich Live redraws its display; colours dropped."""
    lines, row, col = [""], 0, 0
    for part in re.split(r"(\x1b\[\??[0-9;]*[A-Za-z]|\r\n|\n|\r)", output):
        if part in ("\r\n", "\n"):
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif part == "\r":
            col = 0
        elif (found := CONTROL.fullmatch(part)) is not None:
            number, command = found.groups()
            if command == "A":
                row = max(0, row - int(number or 1))
            elif command == "K":
                lines[row] = "" if number == "2" else lines[row][:col]
        elif part:
            lines[row] = lines[row][:col].ljust(col) + part + lines[row][col + len(part) :]
            col += len(part)
    return [line.rstrip() for line in lines]


def run_on_a_terminal(argv: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """Run argv with a pseudo-terminal as its stdin, stdout and stderr; return its exit code and
    everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        os.execve(argv[0], argv, env)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def newsflow_run(tmp_path: Path, seeds: Path, *extra: str) -> list[str]:
    db = tmp_path / "warehouse" / "newsflow.sqlite"
    return [sys.executable, "-m", "newsflow", "run", "--db", str(db), "--seeds", str(seeds), *extra]


def test_progress_on_a_terminal_then_the_load_report(
    server: PrefectServer, seed_dir: Path, tmp_path: Path
) -> None:
    env = server.env(COLUMNS="150", LINES="50", TERM="xterm-256color", NEWSFLOW_BATCH_SIZE="2")
    code, output = run_on_a_terminal(newsflow_run(tmp_path, seed_dir), env)
    shown = screen(output)
    assert code == 0, "\n".join(shown[-60:])
    # the display, redrawn in place: each stage once on the screen, done, with its counts
    for stage, counts in (("listed", "5/5"), ("fetched", "5/5"), ("prepared", "5/5"), ("loaded", "5/5")):
        rows = [line for line in shown if re.match(rf"\S+ {stage}\b", line)]
        assert len(rows) == 1 and counts in rows[0], "\n".join(shown)
    assert "━" in output and "/s" in output and "ETA" in output  # bars, rates, times left
    # Prefect's log lines above it, each on its own line, never glued to a frame of the display
    logs = [line for line in shown if re.search(r"\| (INFO|WARNING|ERROR) +\|", line)]
    assert logs and all(re.match(r"\d\d:\d\d:\d\d\.\d+ \|", line) for line in logs), logs
    assert all("━━" not in line for line in logs)
    # then the load report
    report = "\n".join(shown[shown.index(next(line for line in shown if line.startswith("newsflow run "))) :])
    run_id = re.search(r"newsflow run ([0-9a-f-]{36}) completed in [0-9.]+ s", report)
    assert run_id, report
    assert f"warehouse: {tmp_path / 'warehouse' / 'newsflow.sqlite'}" in report
    assert re.search(r"│ +5 │ +5 │ +0 │ +0 │ +0 │ +0 │", report), report
    assert f"Prefect UI: {server.url.removesuffix('/api')}/runs/flow-run/{run_id.group(1)}" in report


@pytest.fixture
def slow_pages(httpserver) -> Iterator[tuple[list[str], threading.Event]]:
    """Three article pages that answer only after a long wait; the event is set by the first
    request."""
    asked, release = threading.Event(), threading.Event()

    def slowly(request: Request) -> Response:
        asked.set()
        release.wait(60)
        return Response("<html><body><p>late</p></body></html>", content_type="text/html")

    httpserver.expect_request(re.compile("/story/.*")).respond_with_handler(slowly)
    yield [httpserver.url_for(f"/story/{i}") for i in range(3)], asked
    release.set()


def test_ctrl_c_during_a_run_says_what_was_kept_in_one_line(
    server: PrefectServer, tmp_path: Path, slow_pages: tuple[list[str], threading.Event]
) -> None:
    urls, asked = slow_pages
    seeds = tmp_path / "no-seeds"
    seeds.mkdir()
    argv = newsflow_run(tmp_path, seeds, *(a for u in urls for a in ("--url", u)))
    env = server.env(NEWSFLOW_ALLOW_HOSTS="localhost,127.0.0.1", NEWSFLOW_OBEY_ROBOTS="false")
    # a session of its own, as a shell's job: Ctrl-C reaches the run and its worker processes
    run = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert asked.wait(240), "the run never asked for a page"
        time.sleep(0.5)
        os.killpg(run.pid, signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, stderr[-3000:]
    assert time.monotonic() - sent < 15  # not held by the slow host's requests in flight
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    ours = [line for line in stderr.splitlines() if line.startswith("newsflow: interrupted")]
    assert len(ours) == 1 and "loaded nothing" in ours[0] and "the next run fetches" in ours[0], stderr
    assert "fetched" not in stdout  # not a terminal: no progress display
    with warehouse.connect(tmp_path / "warehouse" / "newsflow.sqlite", read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
