"""newsflow's benchmarks: each prints its table and writes its figures under benchmarks/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def save(report: dict[str, Any], text: str, path: Path) -> int:
    """Print a benchmark's table, write its figures as JSON to path; return the exit code 0."""
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
