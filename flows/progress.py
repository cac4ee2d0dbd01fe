"""`newsflow run` on a terminal: the run's counts, rates and ETAs per stage, with the log above."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tasks.tally import Tally, watching


class RateColumn(ProgressColumn):
    """Items a second, over Rich's recent samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f}/s" if speed else "     -/s")


class RunProgress(Progress):
    """Rows for listing, fetching, preparing, staging and loading, read from a Tally each frame."""

    def __init__(self, tally: Tally, console: Console) -> None:
        self.tally = tally  # before Progress starts drawing
        super().__init__(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description:<10}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(compact=True),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=True,
            redirect_stderr=True,
            refresh_per_second=4,
        )
        self.rows: dict[str, TaskID] = {
            name: self.add_task(name, total=None) for name in ("listed", "fetched", "prepared", "staged")
        }
        self.load = self.add_task("loaded", total=None, start=False)
        self.loading = False

    def get_renderables(self) -> Iterable[RenderableType]:
        self._follow()
        yield from super().get_renderables()

    def _follow(self) -> None:
        """Copy the tally into the rows; loading starts once every job has its outcome."""
        jobs, t = self.tally.jobs, self.tally
        if jobs is None:
            return
        self.update(self.rows["listed"], total=jobs, completed=jobs)
        self.update(self.rows["fetched"], total=jobs, completed=t.fetched)
        self.update(self.rows["prepared"], total=jobs, completed=t.prepared)
        staging_done = t.prepared >= jobs
        self.update(self.rows["staged"], total=t.staged if staging_done else None, completed=t.staged)
        if staging_done and not self.loading:
            self.start_task(self.load)
            self.loading = True

    def loaded(self, articles: int) -> None:
        """Show the load done with the articles it added."""
        self.start_task(self.load)
        self.update(self.load, total=articles, completed=articles)
        self.refresh()


@contextmanager
def progress_display(out: Console, err: Console) -> Iterator[RunProgress | None]:
    """Show the progress of the runs started inside when out is a terminal (else yield None):
    piped output stays the report. Logs print through the display when err is a terminal too."""
    if not out.is_terminal:
        yield None
        return
    console = Console(highlight=False, markup=False)  # log lines are printed literally
    display = RunProgress(Tally(), console)
    with watching(display.tally), display, _logs_through(console if err.is_terminal else None):
        yield display


@contextmanager
def _logs_through(console: Console | None) -> Iterator[None]:
    """Have the log handlers that own a Rich console (Prefect's) print on this one meanwhile."""
    swapped: list[tuple[Any, Console]] = []
    if console is not None:
        for handler in _handlers():
            own = getattr(handler, "console", None)
            if isinstance(own, Console):
                swapped.append((handler, own))
                handler.console = console  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for handler, own in swapped:
            handler.console = own


def _handlers() -> list[logging.Handler]:
    named = [x for x in list(logging.root.manager.loggerDict.values()) if isinstance(x, logging.Logger)]
    loggers = [logging.getLogger(), *named]
    seen: dict[int, logging.Handler] = {}
    for logger in loggers:
        for handler in logger.handlers:
            seen.setdefault(id(handler), handler)
    return list(seen.values())
