"""The README's quick start, run as written: its query lines against a warehouse a real run made."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS


def quick_start_queries() -> list[str]:
    """Return the shell lines of the README block that follows "Then ask the warehouse"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Then ask the warehouse:\n\n```sh\n(.*?)```", readme, re.S)
    assert block, "the README's quick start asks the warehouse"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.prefect
def test_the_quick_start_queries_run_as_written(tmp_path: Path) -> None:
    # A folder laid out as a clone is: .venv/ (this interpreter's environment), seeds/, warehouse/.
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    env = {
        **os.environ,
        "NEWSFLOW_DB": str(tmp_path / "warehouse" / "newsflow.sqlite"),
        "NEWSFLOW_SEEDS": str(tmp_path / "seeds"),
    }
    made = subprocess.run(
        [".venv/bin/newsflow", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert made.returncode == 0, made.stderr[-2000:]
    lines = quick_start_queries()
    assert len(lines) >= 4
    for line in lines:
        if line.endswith("newsflow shell"):
            line += " -c 'SELECT count(*) FROM articles'"  # interactive as written: give it one query
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (line, done.stderr[-2000:])
        assert done.stdout.strip(), line
