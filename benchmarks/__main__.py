"""Run every benchmark: throughput, re-run, memory; scale-out; dedup lookup; quality; labels."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable, Sequence

from benchmarks import byline, language, lookup, metadata, quality, runners, throughput


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks in turn (a subset with --quick) and print each one's tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small subsets: a few minutes")
    args = parser.parse_args(argv)
    quick = args.quick
    steps: list[tuple[str, Callable[[], int]]] = [
        (
            "throughput, re-run, memory",
            lambda: throughput.main(
                ["--limit", "150", "--memory-n", "20"] if quick else ["--memory-n", "60"]
            ),
        ),
        (
            "scale-out: pool in task vs ProcessPoolTaskRunner",
            lambda: runners.main(["--limit", "60" if quick else "200"]),
        ),
        (
            "near-duplicate lookup",
            lambda: lookup.main(["--sizes", "10000,100000" if quick else "10000,100000,1000000"]),
        ),
        ("extraction quality", lambda: quality.main(["--limit", "100"] if quick else [])),
        (
            "language labels",
            lambda: language.main(["--sentences", "40", "--paragraphs", "20"] if quick else []),
        ),
        ("titles, authors, dates", lambda: metadata.main(["--every", "8"] if quick else [])),
        ("byline search vs trafilatura", lambda: byline.main(["--limit", "300"] if quick else [])),
    ]
    print(
        f"machine: {_cpu_model()}, {__import__('os').cpu_count()} CPUs, Python {platform.python_version()}",
        flush=True,
    )
    began = time.perf_counter()
    for title, step in steps:
        print(f"\n== {title} ==", flush=True)
        started = time.perf_counter()
        code = step()
        print(f"({title}: {time.perf_counter() - started:.0f} s)", flush=True)
        if code:
            return code
    print(f"\nall benchmarks: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
