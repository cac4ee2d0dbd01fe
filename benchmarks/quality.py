"""Main-text extraction quality and speed on the trafilatura evaluation corpus."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from types import FrameType
from typing import Any

import trafilatura

from tasks.clean.html import EXTRACT_OPTIONS, decode_html, extract_html
from tasks.clean.quality import low_quality

ExtractFn = Callable[[str, str], str | None]

RESULTS = Path(__file__).resolve().parent / "results" / "quality.json"
# seconds per page: a guard against pages that keep trafilatura busy for minutes; none of the
# 990 corpus pages came near it with trafilatura 2.3.1 (see slowest_page_s in the results)
TIME_LIMIT = 20.0

# Option sets tried when choosing EXTRACT_OPTIONS (`--candidates`).
CANDIDATES: dict[str, dict[str, object]] = {
    "defaults": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "no_comments": {"include_comments": False},
    "no_tables": {"include_tables": False},
    "deduplicate": {"deduplicate": True},
    "no_comments+precision": {"include_comments": False, "favor_precision": True},
    "no_comments+recall": {"include_comments": False, "favor_recall": True},
    "no_comments+no_tables": {"include_comments": False, "include_tables": False},
    "no_comments+dedup": {"include_comments": False, "deduplicate": True},
    "fast": {"fast": True},
}


@dataclass(frozen=True, slots=True)
class Page:
    """One annotated corpus page: where its bytes are and which snippets it must (not) yield."""

    url: str
    path: Path
    with_: tuple[str, ...]
    without: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one extractor did with one page."""

    tp: int
    fn: int
    fp: int
    tn: int
    seconds: float
    timed_out: bool


class PageTimeout(Exception):
    """An extraction ran past the per-page time limit."""


def corpus_dir() -> Path:
    """Return the shared corpus folder, from NEWSFLOW_CORPUS or next to the project."""
    env = os.environ.get("NEWSFLOW_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def load_pages(corpus: Path, limit: int | None = None) -> list[Page]:
    """Return the annotated pages sorted by file name, the first `limit` only if given."""
    root = corpus / "pages"
    evaldata = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    pages = [
        Page(url, root / "web" / f"{item['file']}.gz", tuple(item["with"]), tuple(item["without"]))
        for url, item in evaldata.items()
    ]
    pages.sort(key=lambda page: page.path.name)
    return pages[:limit] if limit is not None else pages


def normalise(text: str) -> str:
    """Return text with every whitespace run collapsed to one space."""
    return " ".join(text.split())


def score_page(output: str | None, page: Page) -> tuple[int, int, int, int]:
    """Return (tp, fn, fp, tn) of one extraction output against the page's snippets."""
    text = normalise(output or "")
    found_with = sum(normalise(snippet) in text for snippet in page.with_)
    found_without = sum(normalise(snippet) in text for snippet in page.without)
    return (
        found_with,
        len(page.with_) - found_with,
        found_without,
        len(page.without) - found_without,
    )


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise PageTimeout


def run_page(extract_fn: ExtractFn, time_limit: float, page: Page) -> Outcome:
    """Return the outcome of one page; output past the time limit counts as no output."""
    html, _ = decode_html(gzip.decompress(page.path.read_bytes()))
    # SIGALRM rather than a pool timeout: the worker survives and the pool needs no restart
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    # CPU time, not wall time: the figure stays honest when workers share a busy machine
    start = time.process_time()
    try:
        output, timed_out = extract_fn(html, page.url), False
    except PageTimeout:
        output, timed_out = None, True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.process_time() - start
    return Outcome(*score_page(output, page), seconds=seconds, timed_out=timed_out)


def summarise(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """Return summed counts, precision, recall, F1 and per-core pages/s of page outcomes."""
    done = list(outcomes)
    tp, fn, fp, tn = (sum(getattr(o, key) for o in done) for key in ("tp", "fn", "fp", "tn"))
    seconds = sum(o.seconds for o in done)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pages": len(done),
        "timed_out": sum(o.timed_out for o in done),
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "cpu_seconds": round(seconds, 2),
        "slowest_page_s": round(max((o.seconds for o in done), default=0.0), 2),
        # per core: summed in-worker CPU time, so two workers do not double the figure
        "pages_per_s": round(len(done) / seconds, 2) if seconds else 0.0,
    }


def score_corpus(
    extract_fn: ExtractFn,
    pages: Sequence[Page],
    processes: int = 2,
    time_limit: float = TIME_LIMIT,
) -> dict[str, Any]:
    """Return the corpus score of extract_fn(html, url) -> text or None over the pages."""
    work = partial(run_page, extract_fn, time_limit)
    start = time.perf_counter()
    if processes > 1:
        # one task per page so a slow page does not hold back a whole chunk
        with Pool(processes) as pool:
            outcomes = pool.map(work, pages, chunksize=1)
    else:
        outcomes = [work(page) for page in pages]
    result = summarise(outcomes)
    result["wall_seconds"] = round(time.perf_counter() - start, 2)
    result["timed_out_pages"] = [p.path.name for p, o in zip(pages, outcomes, strict=True) if o.timed_out]
    return result


def baseline_extract(html: str, url: str) -> str | None:
    """Return plain trafilatura.extract output with its defaults."""
    return trafilatura.extract(html)


def newsflow_extract(html: str, url: str) -> str | None:
    """Return the project's extract_html text; a page its quality gates reject gives none."""
    extracted = extract_html(html, url)
    if extracted is None or low_quality(extracted.text, extracted.cues) is not None:
        return None
    return extracted.text


def candidate_extract(options: dict[str, object], html: str, url: str) -> str | None:
    """Return the main text extract_html would give under other trafilatura options."""
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, **options)
    return document.text if document is not None else None


def table(rows: dict[str, dict[str, Any]]) -> str:
    """Return a fixed-width table of precision, recall, F1 and pages/s per row."""
    lines = [f"{'':24} {'precision':>9} {'recall':>7} {'F1':>7} {'pages/s':>8} {'timeouts':>8}"]
    lines += [
        f"{name:24} {r['precision']:9.4f} {r['recall']:7.4f} {r['f1']:7.4f}"
        f" {r['pages_per_s']:8.2f} {r['timed_out']:8d}"
        for name, r in rows.items()
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Score baseline and newsflow (or every option candidate), print a table, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("--limit", type=int, help="score only the first N pages by file name")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per page")
    parser.add_argument("--candidates", action="store_true", help="score every CANDIDATES option set instead")
    args = parser.parse_args(argv)

    corpus = corpus_dir()
    if not (corpus / "pages" / "evaldata.json").exists():
        print(f"skipped: no corpus at {corpus} (set NEWSFLOW_CORPUS)")
        return 0
    pages = load_pages(corpus, args.limit)
    run = partial(score_corpus, pages=pages, processes=args.processes, time_limit=args.time_limit)

    rows: dict[str, dict[str, Any]]
    if args.candidates:
        rows = {name: run(partial(candidate_extract, opts)) for name, opts in CANDIDATES.items()}
    else:
        rows = {"baseline": run(baseline_extract), "newsflow": run(newsflow_extract)}

    print(
        f"{len(pages)} pages from {corpus}, {args.processes} processes,"
        f" {args.time_limit:g} s per page (a timed-out page counts as no output);"
        " pages/s is per CPU-second (per core)"
    )
    print(table(rows))
    if not args.candidates:
        ratio = rows["newsflow"]["pages_per_s"] / rows["baseline"]["pages_per_s"]
        print(f"throughput newsflow/baseline: {ratio:.2f}x")
    for name, row in rows.items():
        if row["timed_out_pages"]:
            print(f"{name} timed out on: {', '.join(row['timed_out_pages'])}")

    if args.candidates:
        return 0
    report = {
        "corpus": str(corpus),
        "pages": len(pages),
        "limit": args.limit,
        "processes": args.processes,
        "time_limit_s": args.time_limit,
        "trafilatura": trafilatura.__version__,
        "extract_options": EXTRACT_OPTIONS,
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
