"""Run `newsflow` with a fault at a chosen point:
`python -m tests.crashpoint hang|fill MODULE:NAME[+] PATH ARGS...`.

The named function (patched where the run looks it up) is wrapped so that, when the run reaches
it (or, with `+`, once it has returned), `hang` touches the file PATH and waits to be killed (the
test then sends SIGKILL), `fill` fills the file system holding the folder PATH, leaving
almost nothing free, and `limit` caps the size of any file the process writes; both let the
run go on. Only the fault's timing is arranged: the run, its
Prefect server, its worker processes, its warehouse and the full disk are all real.
"""

from __future__ import annotations

import functools
import importlib
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LEAVE_FREE = 64 * 1024  # bytes a full disk keeps: less than any warehouse write needs


def hang(marker: Path) -> None:
    marker.touch()
    time.sleep(3600)
    raise AssertionError("crash point reached but the process was not killed")


def fill(folder: Path) -> None:
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with (folder / "filler").open("wb") as out:
        os.posix_fallocate(out.fileno(), 0, max(0, free - LEAVE_FREE))


def limit(folder: Path) -> None:
    """Cap the size of every file this process writes from now on (RLIMIT_FSIZE): past it a
    write fails with EFBIG (Python ignores SIGXFSZ), as one fails with ENOSPC on a full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LEAVE_FREE, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


ACTIONS: dict[str, Callable[[Path], None]] = {"hang": hang, "fill": fill, "limit": limit}


def arm(target: str, action: Callable[[], None]) -> None:
    """Make MODULE:NAME[+] do action before it runs or (with +) once it has run."""
    module_name, name = target.rstrip("+").split(":")
    module = importlib.import_module(module_name)
    original: Callable[..., Any] = getattr(module, name)

    @functools.wraps(original)
    def faulty(*args: Any, **kwargs: Any) -> Any:
        if target.endswith("+"):
            result = original(*args, **kwargs)
            action()
            return result
        action()
        return original(*args, **kwargs)

    setattr(module, name, faulty)


def main(argv: list[str]) -> None:
    action, target, path, *args = argv
    from tasks.settings import prefect_defaults

    prefect_defaults()  # before anything imports Prefect, as `newsflow run` does
    arm(target, functools.partial(ACTIONS[action], Path(path)))
    from flows.cli import app

    app(args, prog_name="newsflow")


if __name__ == "__main__":
    main(sys.argv[1:])
