"""Language labels on langid-dev: langdetect with py3langid's second opinion against langdetect alone."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.site import corpus_dir
from tasks.language import (
    MIN_LETTERS,
    UNDETERMINED,
    combine,
    detect_language,
    langdetect_languages,
    langdetect_opinion,
    langid_opinion,
    letter_count,
    warm_detector,
)
from tasks.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "language.json"
PARAGRAPH = 4  # consecutive sentences per paragraph, the corpus's customary measure
DOCUMENT = 24  # consecutive sentences per document for the sample-size and timing runs (~3,000 chars)
SAMPLES = (600, 2000)  # sample_chars compared
GOALS = {"paragraphs": (0.995, 0.90), "sentences": (0.99, 0.0)}  # precision, coverage


@dataclass(frozen=True, slots=True)
class Text:
    """One corpus text and its true language."""

    truth: str
    text: str


def right(label: str, truth: str) -> bool:
    """Return whether label is a right answer for truth (Norwegian written standards may be 'no')."""
    return label == truth or (label == "no" and truth in ("nb", "nn"))


def bare_langdetect(text: str, *, threshold: float, sample_chars: int) -> str:
    """Return the label the pipeline gave before the second opinion: langdetect alone."""
    sample = text[:sample_chars]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return UNDETERMINED
    opinion = langdetect_opinion(sample)
    return opinion.language if opinion.probability >= threshold else UNDETERMINED


def load(root: Path) -> dict[str, list[str]]:
    """Return each language's sentences, in file order."""
    return {
        path.stem: [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for path in sorted(root.glob("*.txt"))
    }


def groups(sentences: dict[str, list[str]], size: int, per_language: int | None) -> list[Text]:
    """Return texts of `size` consecutive sentences, up to per_language of them for each language."""
    texts = []
    for truth, lines in sentences.items():
        chunks = [" ".join(lines[i : i + size]) for i in range(0, len(lines) - size + 1, size)]
        texts += [Text(truth, chunk) for chunk in chunks[:per_language]]
    return texts


def score(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Return precision, coverage and counts over (truth, label) pairs."""
    total = labelled = correct = 0
    for truth, label in pairs:
        total += 1
        if label != UNDETERMINED:
            labelled += 1
            correct += right(label, truth)
    return {
        "texts": total,
        "labelled": labelled,
        "wrong": labelled - correct,
        "precision": round(correct / labelled, 5) if labelled else None,
        "coverage": round(labelled / total, 5) if total else None,
    }


def label_all(texts: Sequence[Text], threshold: float, sample_chars: int) -> tuple[list[str], list[str]]:
    """Return the combined and the bare-langdetect label of each text, each detector run once."""
    combined, bare = [], []
    for item in texts:
        sample = item.text[:sample_chars]
        first = langdetect_opinion(sample)
        if letter_count(sample) < MIN_LETTERS:
            combined.append(UNDETERMINED)
        else:
            combined.append(combine(first, langid_opinion(sample), threshold=threshold).language)
        old_short = sum(ch.isalpha() for ch in sample) < MIN_LETTERS
        bare.append(UNDETERMINED if old_short or first.probability < threshold else first.language)
    return combined, bare


def per_language(texts: Sequence[Text], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return precision, coverage and the most frequent wrong labels of each language."""
    by_truth: dict[str, list[str]] = defaultdict(list)
    for item, label in zip(texts, labels, strict=True):
        by_truth[item.truth].append(label)
    table = {}
    for truth, found in sorted(by_truth.items()):
        wrong = Counter(label for label in found if label != UNDETERMINED and not right(label, truth))
        table[truth] = score((truth, label) for label in found) | {
            "confused_with": dict(wrong.most_common(3))
        }
    return table


def weak_spots(table: dict[str, dict[str, Any]], precision: float, coverage: float) -> dict[str, str]:
    """Return a line for each language under the precision or coverage floor."""
    spots = {}
    for truth, row in table.items():
        low_precision = row["precision"] is not None and row["precision"] < precision
        if low_precision or (row["coverage"] or 0.0) < coverage:
            wrong = ", ".join(f"{label} {n}" for label, n in row["confused_with"].items())
            shown = "-" if row["precision"] is None else f"{row['precision']:.1%}"
            spots[truth] = f"precision {shown}, coverage {row['coverage']:.1%}" + (
                f" (wrong: {wrong})" if wrong else ""
            )
    return spots


def split_by_profile(texts: Sequence[Text], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return the score on languages langdetect has a profile for, and on the others."""
    known = langdetect_languages() | {"nb", "nn"}
    pairs = list(zip((t.truth for t in texts), labels, strict=True))
    return {
        "langdetect_profiles": score(p for p in pairs if p[0] in known),
        "outside_profiles": score(p for p in pairs if p[0] not in known),
    }


def documents_run(documents: Sequence[Text], threshold: float) -> dict[str, Any]:
    """Return, for each sample size, CPU ms per document and the score of both ways on long documents."""
    runs: dict[str, Any] = {}
    truths = [d.truth for d in documents]
    for chars in SAMPLES:
        bare, both = [], []
        spent = {"langdetect": 0.0, "combined": 0.0}
        for item in documents:
            # CPU time, interleaved: the machine is shared, and waiting for a core is no detector's cost.
            began = time.process_time()
            bare.append(bare_langdetect(item.text, threshold=threshold, sample_chars=chars))
            middle = time.process_time()
            both.append(detect_language(item.text, threshold=threshold, sample_chars=chars).language)
            spent["langdetect"] += middle - began
            spent["combined"] += time.process_time() - middle
        runs[str(chars)] = {
            "ms_per_document": {way: round(1000 * s / len(documents), 2) for way, s in spent.items()},
            "combined": score(zip(truths, both, strict=True)),
            "langdetect": score(zip(truths, bare, strict=True)),
        }
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both ways on sentences, paragraphs and documents; print figures and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.language", description=__doc__)
    parser.add_argument("--sentences", type=int, default=200, help="single sentences per language")
    parser.add_argument("--paragraphs", type=int, default=None, help="paragraphs per language (all)")
    parser.add_argument("--documents", type=int, default=4, help="documents per language for timing")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    root = corpus_dir() / "langid-dev"
    if not root.is_dir():
        print(f"skipped: no corpus at {root} (set NEWSFLOW_CORPUS)")
        return 0
    settings = Settings()
    threshold, sample_chars = settings.language_threshold, settings.language_sample_chars
    sentences = load(root)
    sets = {
        "paragraphs": groups(sentences, PARAGRAPH, args.paragraphs),
        "sentences": groups(sentences, 1, args.sentences),
    }
    documents = groups(sentences, DOCUMENT, args.documents)
    began = time.perf_counter()
    warm_detector()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
        "threshold": threshold,
        "sample_chars": sample_chars,
        "languages": len(sentences),
        "options": vars(args),
    }
    print(f"langid-dev: {len(sentences)} languages, threshold {threshold}, sample_chars {sample_chars}")
    for name, texts in sets.items():
        started = time.perf_counter()
        combined, bare = label_all(texts, threshold, sample_chars)
        table = per_language(texts, combined)
        floor_precision, floor_coverage = GOALS[name]
        truths = [t.truth for t in texts]
        report[name] = {
            "combined": score(zip(truths, combined, strict=True)),
            "langdetect": score(zip(truths, bare, strict=True)),
            "combined_by_profile": split_by_profile(texts, combined),
            "langdetect_by_profile": split_by_profile(texts, bare),
            "per_language": table,
            "weak_spots": weak_spots(table, floor_precision, max(floor_coverage, 0.5)),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print_set(name, report[name], floor_precision, floor_coverage)
    check = sets["paragraphs"][:: max(1, len(sets["paragraphs"]) // 100)]
    composed, _ = label_all(check, threshold, sample_chars)
    direct = [detect_language(t.text, threshold=threshold, sample_chars=sample_chars).language for t in check]
    if composed != direct:
        print("label_all disagrees with detect_language: the benchmark no longer measures the pipeline")
        return 1
    report["documents"] = documents_run(documents, threshold)
    average = sum(len(d.text) for d in documents) // max(len(documents), 1)
    print(f"\n{len(documents)} documents of {DOCUMENT} sentences ({average} chars on average), CPU ms each:")
    for chars, run in report["documents"].items():
        ms, both, bare = run["ms_per_document"], run["combined"], run["langdetect"]
        print(
            f"  sample_chars {chars:>4}: langdetect {ms['langdetect']:6.2f} ms "
            f"(precision {bare['precision']:.2%}, coverage {bare['coverage']:.1%}); "
            f"combined {ms['combined']:6.2f} ms "
            f"(precision {both['precision']:.2%}, coverage {both['coverage']:.1%})"
        )
    report["seconds"] = round(time.perf_counter() - began, 1)
    print(f"({report['seconds']:.0f} s)")
    if not args.no_write:
        RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


def print_set(name: str, result: dict[str, Any], precision: float, coverage: float) -> None:
    """Print one text set's figures, goal included, and its weak spots."""
    both, bare = result["combined"], result["langdetect"]
    met = both["precision"] >= precision and both["coverage"] >= coverage
    print(f"\n{name} ({both['texts']} texts, {result['seconds']:.0f} s):")
    print(
        f"  combined:   precision {both['precision']:.2%} ({both['wrong']} wrong), coverage "
        f"{both['coverage']:.2%}  goal precision >= {precision:.1%}, coverage >= {coverage:.0%}: "
        f"{'met' if met else 'NOT met'}"
    )
    print(
        f"  langdetect: precision {bare['precision']:.2%} ({bare['wrong']} wrong), "
        f"coverage {bare['coverage']:.2%}"
    )
    for way in ("combined", "langdetect"):
        parts = result[f"{way}_by_profile"]
        print(
            f"    {way:<10} on langdetect's languages {parts['langdetect_profiles']['precision']:.2%} / "
            f"{parts['langdetect_profiles']['coverage']:.1%}, outside them "
            f"{parts['outside_profiles']['precision']:.2%} / {parts['outside_profiles']['coverage']:.1%}"
        )
    print("  weak spots (combined):")
    for truth, line in result["weak_spots"].items():
        print(f"    {truth}: {line}")


if __name__ == "__main__":
    sys.exit(main())
