"""The byline search: newsflow's one pass (tasks/clean/byline.py) against trafilatura's
extract_author on every corpus page (990 evaluation pages, 1,497 WCXB pages): the same author
on every page, and the CPU time of each."""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trafilatura.metadata import extract_author

from benchmarks import save
from benchmarks.site import corpus_dir
from tasks.clean.byline import find_author
from tasks.clean.html import decode_html, parse_html

RESULTS = Path(__file__).resolve().parent / "results" / "byline.json"


def corpus_pages(root: Path) -> list[Path]:
    """Return the HTML pages of both corpora under root, in name order."""
    return sorted(root.glob("pages/web/*.html.gz")) + sorted(root.glob("wcxb-dev/dev/html/*.html*"))


def measure(paths: Sequence[Path]) -> dict[str, Any]:
    """Return how many pages both searches agree on and each one's CPU ms per page."""
    pages = agree = found = 0
    bare = ours = 0.0
    differ: list[str] = []
    for path in paths:
        body = path.read_bytes()
        tree = parse_html(decode_html(gzip.decompress(body) if path.suffix == ".gz" else body)[0])
        if tree is None:
            continue
        pages += 1
        t0 = time.process_time()
        expected = extract_author(tree)
        t1 = time.process_time()
        got = find_author(tree)
        t2 = time.process_time()
        bare, ours = bare + t1 - t0, ours + t2 - t1
        found += expected is not None
        if got == expected:
            agree += 1
        else:
            differ.append(path.name)
    return {
        "pages": pages,
        "with_author": found,
        "same_author": agree,
        "differ": differ,
        "trafilatura_ms_per_page": round(1000 * bare / max(pages, 1), 2),
        "newsflow_ms_per_page": round(1000 * ours / max(pages, 1), 2),
        "speedup": round(bare / ours, 2) if ours else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the figures and write benchmarks/results/byline.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.byline", description=__doc__)
    parser.add_argument("--limit", type=int, help="only the first N pages")
    args = parser.parse_args(argv)
    paths = corpus_pages(corpus_dir())[: args.limit]
    if not paths:
        print(f"byline skipped: no corpus at {corpus_dir()} (set NEWSFLOW_CORPUS)")
        return 0
    report = measure(paths)
    text = (
        f"byline search on {report['pages']} pages ({report['with_author']} with an author): "
        f"same author on {report['same_author']}; trafilatura extract_author "
        f"{report['trafilatura_ms_per_page']} ms/page, newsflow find_author "
        f"{report['newsflow_ms_per_page']} ms/page ({report['speedup']}x)"
    )
    return save(report, text, RESULTS)


if __name__ == "__main__":
    sys.exit(main())
