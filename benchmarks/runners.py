"""Scale-out choice: a worker pool inside one task per batch, or Prefect's ProcessPoolTaskRunner."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.site import corpus_dir, load_pages

RESULTS = Path(__file__).resolve().parent / "results" / "runners.json"
BATCH = 200  # documents per batch, the flow's default
CHUNK = 25  # documents per task run under ProcessPoolTaskRunner


def _documents(limit: int) -> list[Any]:
    from tasks.records import RawDocument

    now = datetime(2024, 5, 1, tzinfo=UTC)
    pages, _ = load_pages(limit)
    return [
        RawDocument(
            "bench",
            f"http://127.0.0.2/{p.name}",
            p.body,
            "text/html",
            now,
            final_url=f"http://127.0.0.2/{p.name}",
        )
        for p in pages
    ]


def measure(limit: int, workers: int) -> dict[str, Any]:
    """Return seconds and articles of each variant, on the same pages, after the server is up."""
    from prefect import flow
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from tasks.prepare import Batch, prepare_batch, worker_pool
    from tasks.settings import Settings

    config = Settings().prepare_config(datetime(2024, 5, 1, tzinfo=UTC), "bench")

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    @flow(name="bench-pool-in-task", task_runner=ThreadPoolTaskRunner())
    def pool_in_task(limit: int) -> int:
        docs = _documents(limit)
        done = 0
        with worker_pool(workers) as pool:
            for start in range(0, len(docs), BATCH):
                future = prepare_batch.submit(Batch(docs[start : start + BATCH]), config, pool)
                done += len(future.result()[0])
        return done

    @flow(name="bench-process-pool-runner", task_runner=ProcessPoolTaskRunner(max_workers=workers))
    def process_runner(limit: int) -> int:
        docs = _documents(limit)
        futures = [
            prepare_batch.submit(Batch(docs[start : start + CHUNK]), config, None)
            for start in range(0, len(docs), CHUNK)
        ]
        return sum(len(f.result()[0]) for f in futures)

    warm_up()  # the ephemeral server starts here, outside the measurements
    report: dict[str, Any] = {"pages": limit, "workers": workers, "batch": BATCH, "chunk": CHUNK}
    for name, variant in (("process_pool_task_runner", process_runner), ("pool_in_task", pool_in_task)):
        start, cpu = time.perf_counter(), time.process_time()
        articles = variant(limit)
        report[name] = {
            "seconds": round(time.perf_counter() - start, 2),
            "articles": articles,
            "parent_cpu_seconds": round(time.process_time() - cpu, 2),
        }
    return report


def table(report: dict[str, Any]) -> str:
    """Return the comparison as a small table."""
    lines = [
        f"{report['pages']} pages, {report['workers']} workers, warm Prefect server",
        f"{'':52} {'seconds':>8} {'articles':>8} {'pages/s':>8}",
    ]
    labels = {
        "pool_in_task": f"(a) DocumentPool in one task per {report['batch']} docs",
        "process_pool_task_runner": f"(b) ProcessPoolTaskRunner, one task per {report['chunk']}",
    }
    for key, label in labels.items():
        row = report[key]
        lines.append(
            f"{label:52} {row['seconds']:8.1f} {row['articles']:8d} {report['pages'] / row['seconds']:8.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both variants, print the table and write benchmarks/results/runners.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runners", description=__doc__)
    parser.add_argument("--limit", type=int, default=200, help="pages (first N by file name)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if not (corpus_dir() / "pages" / "web").is_dir():
        print(f"runners skipped: no corpus at {corpus_dir()} (set NEWSFLOW_CORPUS)")
        return 0
    from tasks.settings import prefect_defaults

    prefect_defaults()
    report = measure(args.limit, args.workers)
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
