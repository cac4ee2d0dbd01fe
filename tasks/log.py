"""The logger tasks write to: Prefect's run logger in a run, a plain logger outside one."""

from __future__ import annotations

import logging
from typing import Any

from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger


def run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    """Return the current run's logger, or the 'newsflow' logger when called via task.fn."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("newsflow")
