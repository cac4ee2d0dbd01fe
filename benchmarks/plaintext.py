"""Plain-text cleaning quality: page renderings, 75-language sentence files, story copies in one folder."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from benchmarks.quality import Page, corpus_dir, load_pages, normalise, score_page
from tasks.clean import MIN_SOURCE_DOCS
from tasks.clean.boilerplate import clean_plain_text
from tasks.clean.html import decode_html
from tasks.clean.stories import repeated_lines
from tasks.normalize import word_count

RESULTS = Path(__file__).resolve().parent / "results" / "plaintext.json"
MIN_WORDS = 25  # the pipeline's default too_short gate (Settings.min_words)
SENTENCES_PER_FILE = 8
# An original and this many edited copies of each story share one folder (one source).
COPIES = (3, 10)
STORIES = 30

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that inscriptis and html2text set apart with a blank line.
_SPACED = _HEADINGS | {"p", "blockquote", "pre", "table", "ul", "ol", "dl", "figure", "hr"}
_BLOCKS = _SPACED | frozenset(
    {"div", "li", "td", "th", "tr", "figcaption", "section", "article", "header", "footer", "nav"}
    | {"aside", "main", "form", "dt", "dd", "br", "address", "caption", "tbody", "thead", "center"}
)
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "head", "title"})


@dataclass(frozen=True, slots=True)
class Block:
    """One run of text between block boundaries, with what laid it out."""

    text: str
    tag: str  # the innermost block element holding the text
    lists: int  # how many lists it sits in
    quotes: int  # how many blockquotes it sits in
    cell: bool  # inside a table cell


def blocks(tree: lxml_html.HtmlElement) -> list[Block]:
    """Return the page body's text blocks in reading order."""
    body = tree.find(".//body")
    out: list[Block] = []
    current: list[str] = []
    stack: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        current.clear()
        if text:
            tag = next((t for t in reversed(stack) if t in _BLOCKS), "div")
            lists = sum(t in {"ul", "ol"} for t in stack)
            out.append(Block(text, tag, lists, stack.count("blockquote"), "td" in stack or "th" in stack))

    def walk(el: etree._Element) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP or not tag:
            return
        if tag in _BLOCKS:
            flush()
        stack.append(tag)
        current.append(el.text or "")
        for child in el:
            walk(child)
            current.append(child.tail or "")
        if tag in _BLOCKS:
            flush()
        stack.pop()

    walk(body if body is not None else tree)
    flush()
    return out


def one_per_line(items: Sequence[Block]) -> str:
    """Return one block a line: what a browser's copy or a simple exporter gives."""
    return "".join(f"{b.text}\n" for b in items)


def _marked(block: Block) -> tuple[str, str]:
    """Return the html2text-like prefix of a block's first line and of its other lines."""
    if block.tag in _HEADINGS:
        return "#" * int(block.tag[1]) + " ", ""
    quote = "> " * block.quotes
    if block.tag == "li":
        indent = "  " * (block.lists - 1)
        return f"{quote}{indent}  * ", f"{quote}{indent}    "
    return quote, quote


def wrapped(items: Sequence[Block], width: int) -> str:
    """Return the blocks hard-wrapped at width as html2text does: paragraphs apart, items together."""
    out: list[str] = []
    previous = ""
    for block in items:
        first, rest = _marked(block)
        # html2text keeps list items and table rows together, other blocks a blank line apart.
        together = block.tag in {"li", "td", "th"} and previous == block.tag
        if out and not together:
            out.append("")
        out.extend(
            textwrap.wrap(
                block.text,
                width,
                initial_indent=first,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
        previous = block.tag
    return "\n".join(out) + "\n"


def inscriptis_like(items: Sequence[Block]) -> str:
    """Return the blocks laid out as inscriptis does: indented lists and quotes, blank lines around
    paragraphs and headings, table cells side by side on their row."""
    out: list[str] = []
    row: list[str] = []
    for block in items:
        if block.cell and block.tag in {"td", "th"}:
            row.append(block.text)
            continue
        if row:
            out.append("   ".join(row))
            row = []
        indent = "    " * block.quotes + "  " * block.lists
        text = f"{indent}* {block.text}" if block.tag == "li" else f"{indent}{block.text}"
        spaced = block.tag in _SPACED
        if spaced and out and out[-1]:
            out.append("")
        out.append(text)
        if spaced:
            out.append("")
    if row:
        out.append("   ".join(row))
    return "\n".join(out) + "\n"


def width_of(page: Page) -> int:
    """Return a wrap width in 72..80 that stays the same for a page from run to run."""
    return 72 + sum(page.path.name.encode()) % 9


RENDERINGS: dict[str, Callable[[Sequence[Block], Page], str]] = {
    "one_paragraph_a_line": lambda items, page: one_per_line(items),
    "wrapped_72_80": lambda items, page: wrapped(items, width_of(page)),
    "inscriptis_like": lambda items, page: inscriptis_like(items),
}


def page_blocks(page: Page) -> list[Block] | None:
    """Return a corpus page's text blocks, or None when it does not parse."""
    html, _ = decode_html(gzip.decompress(page.path.read_bytes()))
    try:
        tree = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    return blocks(tree)


def cleaned_output(text: str, repeated: frozenset[str] = frozenset()) -> str | None:
    """Return what the cleaner hands on (title and body), or None when it keeps nothing."""
    result = clean_plain_text(text, repeated=repeated)
    return None if result is None else f"{result.title or ''}\n{result.body}"


def _prf(tp: int, fn: int, fp: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_renderings(pages: Sequence[Page]) -> dict[str, Any]:
    """Return, per rendering, P/R/F1 of the cleaned text and of the whole text, and lost articles."""
    sums = {name: {"kept": [0, 0, 0], "cleaned": [0, 0, 0]} for name in RENDERINGS}
    lost: dict[str, list[str]] = {name: [] for name in RENDERINGS}
    emptied: dict[str, list[str]] = {name: [] for name in RENDERINGS}
    seconds = dict.fromkeys(RENDERINGS, 0.0)
    used = 0
    for page in pages:
        items = page_blocks(page)
        if not items:
            continue
        used += 1
        for name, render in RENDERINGS.items():
            text = render(items, page)
            start = time.process_time()
            output = cleaned_output(text)
            seconds[name] += time.process_time() - start
            for key, out in (("kept", text), ("cleaned", output)):
                tp, fn, fp, _ = score_page(out, page)
                sums[name][key] = [a + b for a, b in zip(sums[name][key], (tp, fn, fp), strict=True)]
            had = score_page(text, page)[0] > 0 and word_count(text) >= MIN_WORDS
            if had and (output is None or word_count(output) < MIN_WORDS):
                emptied[name].append(page.path.name)
            elif had and score_page(output, page)[0] == 0:
                lost[name].append(page.path.name)
    report: dict[str, Any] = {"pages": used}
    for name in RENDERINGS:
        report[name] = {
            "keep_everything": _prf(*sums[name]["kept"]),
            "cleaned": _prf(*sums[name]["cleaned"]),
            "quarantined": len(emptied[name]),
            "quarantined_pages": emptied[name],
            "no_snippet_kept": len(lost[name]),
            "no_snippet_kept_pages": lost[name],
            "ms_per_page": round(1000 * seconds[name] / max(used, 1), 2),
        }
    return report


def sentence_files(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield (language, sentences) for each run of consecutive langid-dev sentences."""
    for path in sorted(root.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for start in range(0, len(lines) - SENTENCES_PER_FILE + 1, SENTENCES_PER_FILE):
            yield path.stem, lines[start : start + SENTENCES_PER_FILE]


def score_sentences(root: Path) -> dict[str, Any]:
    """Return how many sentence files the cleaner quarantines or cuts, per language and overall."""
    per_language: dict[str, Counter[str]] = {}
    reasons: Counter[str] = Counter()
    for language, sentences in sentence_files(root):
        counts = per_language.setdefault(language, Counter())
        counts["files"] += 1
        text = "\n".join(sentences) + "\n"
        result = clean_plain_text(text)
        if word_count(text) < MIN_WORDS:
            # Too short before any cleaning: the gate would set it aside whatever the cleaner did.
            counts["too_short_input"] += 1
        elif result is None or word_count(result.body) < MIN_WORDS:
            counts["quarantined"] += 1
            continue
        if result is None:
            continue
        # The title is kept as the article's title, so a sentence taken as title is not lost.
        counts["title_taken"] += result.title is not None
        why = {normalise(line): reason for line, reason in result.dropped if reason != "title"}
        lost = [why[normalise(s)] for s in sentences if normalise(s) in why]
        counts["sentences_lost"] += len(lost)
        counts["cut"] += bool(lost)
        reasons.update(lost)
    total = sum(per_language.values(), Counter())
    failing = {lang: dict(c) for lang, c in sorted(per_language.items()) if c["quarantined"] or c["cut"]}
    return {
        "languages": len(per_language),
        "total": dict(total),
        "lost_sentences_by_reason": dict(reasons.most_common()),
        "languages_with_losses": failing,
    }


@dataclass(frozen=True, slots=True)
class Story:
    """A corpus page chosen as a story, with its one-paragraph-a-line text."""

    page: Page
    text: str


EDITS = ("note", "drop", "truncate", "header", "reword", "wrap")


def _edit(story: Story, kind: str, rng: random.Random, others: Sequence[Story]) -> str:
    """Return a copy of a story edited as republishers do: a note added, a paragraph dropped,
    cut to 50-70 %, another site's menu around it, words swapped, or hard-wrapped."""
    lines = story.text.splitlines()
    if kind == "note":
        note = f"Editor's note: this story was updated on {rng.randint(1, 28)} May with new figures."
        lines.insert(rng.randint(0, len(lines)), note)
    elif kind == "drop" and len(lines) > 3:
        del lines[rng.randrange(len(lines))]
    elif kind == "truncate":
        lines = lines[: max(1, int(len(lines) * rng.uniform(0.5, 0.7)))]
    elif kind == "header":
        # Another site's menu around the same story.
        other = rng.choice(others).text.splitlines()
        lines = other[:8] + lines + other[-5:]
    elif kind == "reword":
        for _ in range(3):
            i = rng.randrange(len(lines))
            words = lines[i].split()
            if len(words) > 4:
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
                lines[i] = " ".join(words)
    elif kind == "wrap":
        return "\n\n".join(textwrap.fill(line, 76, break_on_hyphens=False) for line in lines) + "\n"
    return "\n".join(lines) + "\n"


def pick_stories(pages: Sequence[Page], count: int) -> list[Story]:
    """Return the first pages whose one-a-line rendering the cleaner keeps snippets of, alone."""
    stories: list[Story] = []
    for page in pages:
        items = page_blocks(page)
        if not items:
            continue
        text = one_per_line(items)
        output = cleaned_output(text)
        if output is not None and score_page(output, page)[0] >= 2 and word_count(output) >= 100:
            stories.append(Story(page, text))
        if len(stories) == count:
            break
    return stories


FOOTER = (
    "Example Media Group publishes these stories under licence; reproduction without permission "
    "is not allowed."
)


def score_copies(pages: Sequence[Page], seed: int = 7) -> dict[str, Any]:
    """Return what one folder holding originals, their edited copies and a shared footer keeps."""
    rng = random.Random(seed)
    stories = pick_stories(pages, STORIES)
    files: list[tuple[int, str, str]] = []  # (story, "original" or the edit, text)
    for n, story in enumerate(stories):
        files.append((n, "original", story.text + FOOTER + "\n"))
        for _ in range(rng.randint(*COPIES)):
            kind = rng.choice(EDITS)
            files.append((n, kind, _edit(story, kind, rng, stories) + FOOTER + "\n"))
    start = time.process_time()
    repeated = repeated_lines([text for _, _, text in files], min_docs=MIN_SOURCE_DOCS)
    repeated_s = time.process_time() - start
    losing: list[str] = []
    quarantined: Counter[str] = Counter()
    quarantined_alone: Counter[str] = Counter()
    footer_kept = alone_tp = folder_tp = 0
    for n, kind, text in files:
        output, alone = cleaned_output(text, repeated), cleaned_output(text)
        quarantined[kind] += output is None or word_count(output) < MIN_WORDS
        quarantined_alone[kind] += alone is None or word_count(alone) < MIN_WORDS
        footer_kept += output is not None and FOOTER in output
        if kind == "original":
            page = stories[n].page
            alone_tp += score_page(alone, page)[0]
            folder_tp += score_page(output, page)[0]
            if score_page(output, page)[0] < score_page(alone, page)[0]:
                losing.append(page.path.name)
    return {
        "stories": len(stories),
        "files": len(files),
        "files_by_kind": dict(Counter(kind for _, kind, _ in files)),
        "quarantined_in_folder": dict(+quarantined),
        "quarantined_cleaned_alone": dict(+quarantined_alone),
        "originals_losing_snippets": len(losing),
        "originals_losing_pages": losing,
        "original_snippets_cleaned_alone": alone_tp,
        "original_snippets_in_folder": folder_tp,
        "shared_footer_kept": footer_kept,
        "repeated_lines": len(repeated),
        "repeated_lines_cpu_s": round(repeated_s, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Score the three scenarios, print their figures and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plaintext", description=__doc__)
    parser.add_argument("--limit", type=int, help="render only the first N pages by file name")
    args = parser.parse_args(argv)
    corpus = corpus_dir()
    if not (corpus / "pages" / "evaldata.json").exists():
        print(f"skipped: no corpus at {corpus} (set NEWSFLOW_CORPUS)")
        return 0
    pages = load_pages(corpus, args.limit)
    start = time.perf_counter()
    renderings = score_renderings(pages)
    print(f"{renderings['pages']} pages: cleaned text against the corpus snippets, [keep everything]")
    header = f"{'rendering':24} {'P':>6} {'R':>6} {'F1':>6}   {'[P':>6} {'R':>6} {'F1]':>6}"
    print(f"{header} {'quarantined':>11} {'no snippet':>10}")
    for name in RENDERINGS:
        row = renderings[name]
        c, k = row["cleaned"], row["keep_everything"]
        print(
            f"{name:24} {c['precision']:6.3f} {c['recall']:6.3f} {c['f1']:6.3f}   {k['precision']:6.3f}"
            f" {k['recall']:6.3f} {k['f1']:6.3f} {row['quarantined']:11d} {row['no_snippet_kept']:10d}"
        )
    sentences = score_sentences(corpus / "langid-dev")
    print(f"langid-dev, {SENTENCES_PER_FILE} sentences a file, {sentences['languages']} languages:")
    print(f"  {sentences['total']}")
    print(f"  lost sentences by the cleaner's reason: {sentences['lost_sentences_by_reason']}")
    for lang, counts in sentences["languages_with_losses"].items():
        print(f"  {lang}: {counts}")
    copies = score_copies(pages)
    print(f"copies in one folder: { {k: v for k, v in copies.items() if not k.endswith('_pages')} }")
    report = {
        "corpus": str(corpus),
        "limit": args.limit,
        "min_words": MIN_WORDS,
        "renderings": renderings,
        "sentence_files": sentences,
        "copies_in_one_folder": copies,
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
