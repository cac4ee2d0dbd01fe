"""A run's counts as it goes, kept by the stream for a display to read (newsflow run on a terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Tally:
    """Jobs a run streams (None until listed), and how many were fetched, prepared and staged;
    written by the stream's thread alone, read by a display's."""

    jobs: int | None = None
    fetched: int = 0  # fetch outcomes: documents, and jobs set aside or deferred at fetch
    prepared: int = 0  # jobs with their outcome, in order
    staged: int = 0  # articles written to staging files


# A context variable, not a flow parameter: parameters are sent to the Prefect API as JSON.
_watched: ContextVar[Tally | None] = ContextVar("newsflow_tally", default=None)


@contextmanager
def watching(tally: Tally) -> Iterator[Tally]:
    """Have the runs started inside count into tally."""
    token = _watched.set(tally)
    try:
        yield tally
    finally:
        _watched.reset(token)


def current_tally() -> Tally:
    """Return the tally a display watches, or a new one that nobody reads."""
    return _watched.get() or Tally()
