"""Titles, authors, dates and main text on the article pages of wcxb-dev, against today's code."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import htmldate
import trafilatura
from trafilatura.settings import Document as TrafilaturaDocument

from benchmarks.site import corpus_dir
from tasks.clean.html import EXTRACT_OPTIONS, decode_html, extract_html
from tasks.clean.quality import low_quality, page_cues
from tasks.language import LanguageGuess
from tasks.normalize import normalize_field, plausible_date, to_article
from tasks.records import Article, Document, RawDocument

RESULTS = Path(__file__).resolve().parent / "results" / "metadata.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # the measurement day: later dates are implausible
_WORD = re.compile(r"\w+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


@dataclass(frozen=True, slots=True)
class Truth:
    """One wcxb-dev article page: where its bytes are and what its annotators wrote down."""

    file_id: str
    url: str | None
    title: str
    author: str | None
    date: str | None  # YYYY-MM-DD
    text: str
    split: str  # 'tune' (rules were chosen on it) or 'held_out'


@dataclass(frozen=True, slots=True)
class Guess:
    """What one variant said about one page."""

    title: str | None
    author: str | None
    date: str | None  # the date as the page states it, in its own offset
    date_utc: str | None  # the day of published_at as stored (UTC)
    date_source: str | None
    text: str


def split_of(file_id: str) -> str:
    """Return the page's half by a hash of its id: rules were chosen on 'tune' only."""
    return "tune" if int(hashlib.blake2b(file_id.encode()).hexdigest(), 16) % 2 == 0 else "held_out"


def load_truth(root: Path, every: int = 1) -> list[Truth]:
    """Return the article pages of wcxb-dev sorted by id, every `every`-th only when sampling."""
    pages = []
    for path in sorted((root / "ground-truth").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if (data.get("_internal") or {}).get("page_type", {}).get("primary") != "article":
            continue
        truth = data["ground_truth"]
        pages.append(
            Truth(
                path.stem,
                data.get("url"),
                truth.get("title") or "",
                truth.get("author") or None,
                (truth.get("publish_date") or "")[:10] or None,
                truth.get("main_content") or "",
                split_of(path.stem),
            )
        )
    return pages[::every]


def word_f1(predicted: str, reference: str) -> float:
    """Return wcxb's word-bag F1 of a text against the reference (1.0 when both are empty)."""
    got, want = Counter(_WORD.findall(predicted.lower())), Counter(_WORD.findall(reference.lower()))
    if not want or not got:
        return float(not want and not got)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _day_utc(value: str | None) -> str | None:
    when = plausible_date(value, now=NOW)
    return when.date().isoformat() if when else None


def newsflow(html: str, page: Truth) -> Guess:
    """Return what newsflow stores for the page: extract_html, then to_article's normalization."""
    extracted = extract_html(html, page.url)
    if extracted is None:
        return Guess(None, None, None, None, None, "")
    raw = RawDocument("bench", page.url or page.file_id, b"", "text/html", NOW, final_url=page.url)
    e = extracted
    doc = Document(raw, e.text, e.title, e.author, e.date, e.date_source)
    # the quality gates are left out here: labels are measured on every page that yields text
    article = to_article(doc, LanguageGuess("en", 1.0), now=NOW, min_words=0, run_id="bench")
    assert isinstance(article, Article)
    stated = extracted.date if article.published_at else None
    gated = "" if low_quality(extracted.text, extracted.cues) else extracted.text
    return Guess(
        article.title,
        article.author,
        stated,
        article.published_at.date().isoformat() if article.published_at else None,
        article.date_source,
        gated,
    )


def today(html: str, page: Truth) -> Guess:
    """Return what the code before this change stored: trafilatura's metadata as it gives it."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return Guess(None, None, None, None, None, "")
    cues = page_cues(tree)
    document = trafilatura.bare_extraction(tree, url=page.url, with_metadata=True, **EXTRACT_OPTIONS)
    text = (document.text or "").strip() if isinstance(document, TrafilaturaDocument) else ""
    if not isinstance(document, TrafilaturaDocument) or not text:
        return Guess(None, None, None, None, None, "")
    stated = document.date if plausible_date(document.date, now=NOW) else None
    return Guess(
        normalize_field(document.title),
        normalize_field(document.author),
        stated,
        _day_utc(document.date),
        "page" if stated else None,
        "" if low_quality(text, cues) else text,
    )


def htmldate_fast(html: str, page: Truth) -> str | None:
    """Return htmldate's date without its extensive search (no copyright lines, no free text)."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    found = htmldate.find_date(tree, extensive_search=False, original_date=True, url=page.url)
    return found if plausible_date(found, now=NOW) else None


def _same_name(got: str | None, want: str | None, *, contained: bool) -> bool:
    if not got or not want:
        return False
    a, b = set(_WORD.findall(got.casefold())), set(_WORD.findall(want.casefold()))
    return a == b or (contained and bool(a) and (a <= b or b <= a))


def _share(hits: Iterable[bool]) -> dict[str, float | int]:
    flags = list(hits)
    return {"rate": round(sum(flags) / len(flags), 4) if flags else 0.0, "n": len(flags)}


def measures(pairs: Sequence[tuple[Truth, Guess]]) -> dict[str, Any]:
    """Return the title, author, date and text figures of one variant over pages."""

    def ws(text: str | None) -> str:
        return " ".join((text or "").split())

    with_author = [(t, g) for t, g in pairs if t.author]
    dated = [(t, g) for t, g in pairs if t.date]
    given = [(t, g) for t, g in dated if g.date]
    return {
        "title_exact": _share(ws(g.title) == ws(t.title) for t, g in pairs),
        "title_exact_quotes_folded": _share(
            ws(g.title).translate(_QUOTES) == ws(t.title).translate(_QUOTES) for t, g in pairs
        ),
        "author_given_where_none": _share(bool(g.author) for t, g in pairs if not t.author),
        "author_match": _share(_same_name(g.author, t.author, contained=False) for t, g in with_author),
        "author_match_or_contained": _share(
            _same_name(g.author, t.author, contained=True) for t, g in with_author
        ),
        "date_given_where_none": _share(bool(g.date) for t, g in pairs if not t.date),
        "date_given_where_stated": _share(bool(g.date) for t, g in dated),
        "date_same_day": _share((g.date or "")[:10] == t.date for t, g in given),
        "date_same_day_utc": _share(g.date_utc == t.date for t, g in given),
        "date_sources": dict(Counter(g.date_source or "none" for _, g in pairs)),
        "text_word_f1": round(sum(word_f1(g.text, t.text) for t, g in pairs) / len(pairs), 4),
    }


def measure(pages: Sequence[Truth], root: Path) -> dict[str, Any]:
    """Return every variant's figures on each half and on all pages, with CPU seconds spent."""
    variants: dict[str, Callable[[str, Truth], Guess]] = {"today": today, "newsflow": newsflow}
    guesses: dict[str, list[Guess]] = {name: [] for name in variants}
    reference: list[Guess] = []
    fast_dates: list[str | None] = []
    cpu: Counter[str] = Counter()
    for page in pages:
        html, _ = decode_html(gzip.decompress((root / "html" / f"{page.file_id}.html.gz").read_bytes()))
        for name, variant in variants.items():
            start = time.process_time()
            guesses[name].append(variant(html, page))
            cpu[name] += time.process_time() - start
        start = time.process_time()
        text = trafilatura.extract(html, url=page.url) or ""
        cpu["trafilatura_extract"] += time.process_time() - start
        reference.append(Guess(None, None, None, None, None, text))
        start = time.process_time()
        fast_dates.append(htmldate_fast(html, page))
        cpu["htmldate_fast"] += time.process_time() - start
    # the date candidates, each as the only change to today's code
    candidates = {
        "htmldate_extensive (today)": [g.date for g in guesses["today"]],
        "htmldate_fast (extensive_search=False, original_date=True)": fast_dates,
        "stated only (newsflow)": [g.date for g in guesses["newsflow"]],
    }
    report: dict[str, Any] = {"pages": len(pages), "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()}}
    for split in ("tune", "held_out", "all"):
        chosen = [i for i, p in enumerate(pages) if split in ("all", p.split)]
        part = {
            name: measures([(pages[i], guesses[name][i]) for i in chosen]) for name in ("today", "newsflow")
        }
        part["trafilatura_extract_text_word_f1"] = round(
            sum(word_f1(reference[i].text, pages[i].text) for i in chosen) / len(chosen), 4
        )
        part["date_candidates"] = {
            name: {
                "given_where_none": _share(bool(dates[i]) for i in chosen if not pages[i].date),
                "given_where_stated": _share(bool(dates[i]) for i in chosen if pages[i].date),
                "same_day": _share(
                    (dates[i] or "")[:10] == pages[i].date for i in chosen if pages[i].date and dates[i]
                ),
            }
            for name, dates in candidates.items()
        }
        report[split] = part
    return report


def table(report: dict[str, Any]) -> str:
    """Return the figures as a table: today's code and newsflow, on each half and on all pages."""
    rows = [
        ("title exact (whitespace-normalised)", "title_exact"),
        ("  same, typographic quotes folded", "title_exact_quotes_folded"),
        ("author given where truth has none", "author_given_where_none"),
        ("author match where truth has one", "author_match"),
        ("  same, one name inside the other", "author_match_or_contained"),
        ("date given where truth has none", "date_given_where_none"),
        ("date given where truth has one", "date_given_where_stated"),
        ("same-day dates, of those given", "date_same_day"),
        ("  same, day of published_at (UTC)", "date_same_day_utc"),
    ]
    splits = ("tune", "held_out", "all")
    lines = [f"{'':38}" + "".join(f"{s + ': today':>17}{'newsflow':>10}" for s in splits)]
    for label, key in rows:
        cells = "".join(
            f"{report[s]['today'][key]['rate']:>17.3f}{report[s]['newsflow'][key]['rate']:>10.3f}"
            for s in splits
        )
        lines.append(f"{label:38}{cells}")
    cells = "".join(
        f"{report[s]['today']['text_word_f1']:>17.3f}{report[s]['newsflow']['text_word_f1']:>10.3f}"
        for s in splits
    )
    lines.append(f"{'main-text word F1':38}{cells}")
    lines.append(
        f"{'  trafilatura.extract defaults':38}"
        + "".join(f"{report[s]['trafilatura_extract_text_word_f1']:>27.3f}" for s in splits)
    )
    lines.append("date candidates on all pages: given where none / given where stated / same day")
    for name, row in report["all"]["date_candidates"].items():
        lines.append(
            f"  {name:60} {row['given_where_none']['rate']:.3f} / "
            f"{row['given_where_stated']['rate']:.3f} / {row['same_day']['rate']:.3f}"
        )
    lines.append(f"date sources (newsflow, all): {report['all']['newsflow']['date_sources']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write benchmarks/results/metadata.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metadata", description=__doc__)
    parser.add_argument("--every", type=int, default=1, help="sample every N-th article page by id")
    args = parser.parse_args(argv)
    root = corpus_dir() / "wcxb-dev" / "dev"
    if not (root / "ground-truth").is_dir():
        print(f"metadata skipped: no wcxb-dev at {root} (set NEWSFLOW_CORPUS)")
        return 0
    pages = load_truth(root, args.every)
    report = {
        "corpus": str(root),
        "sample_every": args.every,
        "splits": dict(Counter(p.split for p in pages)),
        "trafilatura": trafilatura.__version__,
        "htmldate": htmldate.__version__,
        **measure(pages, root),
    }
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
